"""Transfers API: GET transfers/ (the caller's, with filters), POST transfers/ (move money to a
Flux or external IBAN, with an `Idempotency-Key`) and POST transfers/batch/ (up to 1,000 at once)."""

from __future__ import annotations

import json

from django.utils import timezone
from django.utils.translation import gettext
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import generics, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from banking import selectors, services
from banking.api import examples
from banking.api.serializers import (
    TransactionSerializer,
    TransferBatchResultSerializer,
    TransferBatchSerializer,
    TransferCreateSerializer,
)
from banking.api.views import posted_transfer_answer, transaction_body
from banking.filters import TransferFilter
from banking.models import Transaction
from banking.services.batches import BatchItem, BatchOutcome
from core.api.idempotency import idempotent_response, key_and_fingerprint
from core.api.schema import errors, idempotent
from core.api.serializers import validated
from core.errors import ApplicationError, ValidationFailed


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
        answer = _posted_at_once(request)
        if answer is not None:
            return Response(answer, status=status.HTTP_201_CREATED)

        def operation():
            params = validated(TransferCreateSerializer, request.data)
            txn = services.transfer_create(
                initiator=request.user,
                source_account_id=params["source_account"],
                destination_iban=params["destination_iban"],
                amount=params["amount"],
                reference=params["reference"],
                beneficiary_name=params["beneficiary_name"],
            )
            return status.HTTP_201_CREATED, transaction_body(txn, created=True)

        return idempotent_response(request, operation)


def _posted_at_once(request: Request) -> dict | None:
    """The answer of a plain transfer made in one PostgreSQL call (services.transfer_posted_at_once),
    or None for every other request (no usable key, a body to refuse, or a case the service leaves
    to the Python path), which then goes through idempotent_response."""
    key_and_print = key_and_fingerprint(request)
    if key_and_print is None:
        return None
    try:
        params = validated(TransferCreateSerializer, request.data)
    except serializers.ValidationError:
        return None
    at = timezone.now()
    key, fingerprint = key_and_print
    return services.transfer_posted_at_once(
        initiator=request.user, key=key, fingerprint=fingerprint, source_account_id=params["source_account"],
        destination_iban=params["destination_iban"], amount=params["amount"], reference=params["reference"],
        beneficiary_name=params["beneficiary_name"], at=at,
        answer=posted_transfer_answer(initiator=request.user, source_account_id=params["source_account"],
                                      amount=params["amount"], reference=params["reference"], at=at),
    )


def _batch_items(items: list[object]) -> list[BatchItem | ApplicationError]:
    """Each item of a batch, or its validation refusal (kept in its place in the results). One
    serializer checks them all (core/api/serializers.py): building its fields per item cost more
    than the transfers did."""
    checked: list[BatchItem | ApplicationError] = []
    for data in items:
        if not isinstance(data, dict):
            checked.append(ValidationFailed({"non_field_errors": [gettext("Each transfer is an object.")]}))
            continue
        try:
            params = validated(TransferCreateSerializer, data)
        except serializers.ValidationError as exc:
            checked.append(ValidationFailed(json.loads(json.dumps(exc.detail, default=str))))
            continue
        checked.append(
            BatchItem(
                source_account_id=params["source_account"],
                destination_iban=params["destination_iban"],
                amount=params["amount"],
                reference=params["reference"],
                beneficiary_name=params["beneficiary_name"],
            )
        )
    return checked


def _results(outcomes: list[BatchOutcome]) -> list[dict]:
    """The results in order; the transactions serialised by one serializer (core/api/serializers.py)."""
    results = []
    for outcome in outcomes:
        if outcome.error is not None:
            # Through JSON, so a lazily translated message is text in the stored (replayed) answer.
            error = json.loads(json.dumps(outcome.error.as_body()["error"], default=str))
            results.append({"status": "refused", "error": error})
        else:
            body = transaction_body(outcome.transaction, created=True)
            results.append({"status": outcome.transaction.status, "transaction": body})
    return results


class TransferBatchCreateView(APIView):
    """POST: up to 1,000 transfers in one request and one database transaction, results in order."""

    @extend_schema(
        summary="Make a batch of transfers",
        description="Up to 1,000 transfers, each under every rule of POST transfers/ (a customer sends from "
        "their own accounts only: another's is refused `not_found` for that item). All the batch's accounts "
        "are locked once; items apply in order, each against the balances the earlier ones left. 200 with one "
        "result per item, in order: `posted` or `pending` with the transaction, or `refused` with the error "
        "(the other items are applied). With `atomic: true`, one refused item refuses the batch: 422 "
        "`batch_refused` with `error.items` and nothing applied. One `Idempotency-Key` for the whole batch. "
        "The body may be up to 1 MB.",
        request=TransferBatchSerializer,
        responses={
            200: TransferBatchResultSerializer,
            **errors(400, "idempotency_key_missing", "batch_refused", "idempotency_key_reused"),
        },
        parameters=idempotent(200),
        examples=examples.TRANSFER_BATCH_EXAMPLES,
    )
    def post(self, request: Request) -> Response:
        def operation():
            params = TransferBatchSerializer(data=request.data)
            params.is_valid(raise_exception=True)
            outcomes = services.transfer_batch_create(
                initiator=request.user,
                items=_batch_items(params.validated_data["transfers"]),
                atomic=params.validated_data["atomic"],
            )
            return status.HTTP_200_OK, {"results": _results(outcomes)}

        return idempotent_response(request, operation)
