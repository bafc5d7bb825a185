"""Transfers API: GET transfers/ (the caller's, with filters) and POST transfers/ (move money to a
Flux or external IBAN, with an `Idempotency-Key`)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import generics, status
from rest_framework.request import Request
from rest_framework.response import Response

from banking import selectors, services
from banking.api import examples
from banking.api.filters import TransferFilter
from banking.api.serializers import TransactionSerializer, TransferCreateSerializer
from banking.api.views import transaction_body
from banking.models import Transaction
from core.api.idempotency import idempotent_response
from core.api.schema import errors, idempotent


@extend_schema_view(
    get=extend_schema(
        summary="List transfers",
        description="Transfers from or to the caller's accounts (staff: all), newest first, "
        "cursor-paginated. `direction` needs `account`.",
        responses={200: TransactionSerializer(many=True), **errors(400)},
        examples=examples.TRANSFER_LIST_EXAMPLES,
    )
)
class TransferListCreateView(generics.ListAPIView):
    """GET: transfers from or to the caller's accounts (staff: all), newest first, with filters.
    POST: move money from an account to a Flux or external IBAN; 201 with status `posted` or
    `pending`."""

    serializer_class = TransactionSerializer
    filterset_class = TransferFilter

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Transaction.objects.none()
        return selectors.transfer_list_for_user(user=self.request.user)

    @extend_schema(
        summary="Make a transfer",
        description="From one of the caller's accounts (staff: any customer account) to a Flux IBAN or "
        "another bank's IBAN. 201 with status `posted`, or `pending` at or above the approval threshold "
        "(the amount is held until a staff member approves or rejects it). Another customer's source "
        "account is 404. Requires an `Idempotency-Key`.",
        request=TransferCreateSerializer,
        responses={
            201: TransactionSerializer,
            **errors(400, "idempotency_key_missing", 404, "account_frozen", "account_closed",
                     "insufficient_funds", "same_account", "currency_mismatch", "invalid_iban", "unknown_account",
                     "idempotency_key_reused"),
        },
        parameters=idempotent(201),
        examples=examples.TRANSFER_CREATE_EXAMPLES,
    )
    def post(self, request: Request) -> Response:
        def operation():
            params = TransferCreateSerializer(data=request.data)
            params.is_valid(raise_exception=True)
            txn = services.transfer_create(
                initiator=request.user,
                source_account_id=params.validated_data["source_account"],
                destination_iban=params.validated_data["destination_iban"],
                amount=params.validated_data["amount"],
                reference=params.validated_data["reference"],
            )
            return status.HTTP_201_CREATED, transaction_body(txn, created=True)

        return idempotent_response(request, operation)
