"""Banking API views: parse the request, call one service, render the result."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from banking import selectors, services
from banking.access import account_for_user, accounts_visible_to, transaction_for_user
from banking.api.filters import AccountFilter, EntryFilter, TransferFilter
from banking.api.serializers import (
    AccountOpenSerializer,
    AccountSerializer,
    CashSerializer,
    EntrySerializer,
    OverdraftSerializer,
    ReasonSerializer,
    TransactionSerializer,
    TransferCreateSerializer,
)
from banking.models import Account, Entry, Transaction
from core.api.idempotency import HEADER, idempotent_response
from core.api.pagination import OldestFirstCursorPagination
from core.api.permissions import IsBankStaff, IsSupervisor
from core.ids import parse_id

IDEMPOTENCY_HEADER = OpenApiParameter(
    HEADER, OpenApiTypes.STR, OpenApiParameter.HEADER, required=True,
    description="A unique value per operation (e.g. a UUID). A retry with the same key and body "
    "replays the first response; the same key with another body is refused (422).",
)
OPTIONAL_IDEMPOTENCY_HEADER = OpenApiParameter(
    HEADER, OpenApiTypes.STR, OpenApiParameter.HEADER, required=False,
    description="Optional: with it, a retry replays the first response.",
)


def transaction_body(txn) -> dict:
    txn = selectors.transaction_detail_queryset().get(pk=txn.pk)
    return TransactionSerializer(txn).data


class AccountListCreateView(generics.ListAPIView):
    """Accounts: a customer sees their own; staff see all (filter `?customer=`)."""

    serializer_class = AccountSerializer
    filterset_class = AccountFilter

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Account.objects.none()
        return accounts_visible_to(self.request.user).order_by("-id")

    def get_permissions(self):
        if self.request.method == "POST":
            return [permission() for permission in (*self.permission_classes, IsBankStaff)]
        return super().get_permissions()

    @extend_schema(request=AccountOpenSerializer, responses={201: AccountSerializer})
    def post(self, request: Request) -> Response:
        params = AccountOpenSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        account = services.account_open(
            actor=request.user,
            customer_id=params.validated_data["customer"],
            kind=params.validated_data["kind"],
            currency=params.validated_data.get("currency"),
            overdraft_limit=params.validated_data.get("overdraft_limit", 0),
        )
        return Response(AccountSerializer(account).data, status=status.HTTP_201_CREATED)


class AccountDetailView(APIView):
    @extend_schema(responses=AccountSerializer)
    def get(self, request: Request, pk: str) -> Response:
        return Response(AccountSerializer(account_for_user(request.user, pk)).data)


class AccountEntryListView(generics.ListAPIView):
    """An account's entries, newest first; filters `from`, `to`, `q`, `min`, `max` (absolute amount)."""

    serializer_class = EntrySerializer
    filterset_class = EntryFilter

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Entry.objects.none()
        account = account_for_user(self.request.user, self.kwargs["pk"])
        return selectors.entry_list_for_account(account=account)


class AccountLifecycleView(APIView):
    permission_classes = [IsBankStaff]
    service = None

    @extend_schema(request=ReasonSerializer, responses=AccountSerializer)
    def post(self, request: Request, pk: str) -> Response:
        params = ReasonSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        account = type(self).service(
            actor=request.user, account_id=parse_id(pk), reason=params.validated_data["reason"]
        )
        return Response(AccountSerializer(account).data)


class AccountFreezeView(AccountLifecycleView):
    service = staticmethod(services.account_freeze)


class AccountUnfreezeView(AccountLifecycleView):
    service = staticmethod(services.account_unfreeze)


class AccountCloseView(AccountLifecycleView):
    service = staticmethod(services.account_close)


class AccountOverdraftView(APIView):
    """Change an account's overdraft limit (supervisors only), with a reason."""

    permission_classes = [IsSupervisor]

    @extend_schema(request=OverdraftSerializer, responses=AccountSerializer)
    def post(self, request: Request, pk: str) -> Response:
        params = OverdraftSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        account = services.account_set_overdraft_limit(
            actor=request.user,
            account_id=parse_id(pk),
            overdraft_limit=params.validated_data["overdraft_limit"],
            reason=params.validated_data["reason"],
        )
        return Response(AccountSerializer(account).data)


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

    @extend_schema(request=TransferCreateSerializer, responses={201: TransactionSerializer},
                   parameters=[IDEMPOTENCY_HEADER])
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
            return status.HTTP_201_CREATED, transaction_body(txn)

        return idempotent_response(request, operation)


class CashView(APIView):
    permission_classes = [IsBankStaff]
    service = None

    @extend_schema(request=CashSerializer, responses={201: TransactionSerializer}, parameters=[IDEMPOTENCY_HEADER])
    def post(self, request: Request) -> Response:
        def operation():
            params = CashSerializer(data=request.data)
            params.is_valid(raise_exception=True)
            txn = type(self).service(
                initiator=request.user,
                account_id=params.validated_data["account"],
                amount=params.validated_data["amount"],
                reference=params.validated_data["reference"],
            )
            return status.HTTP_201_CREATED, transaction_body(txn)

        return idempotent_response(request, operation)


class DepositCreateView(CashView):
    """Cash paid in at the counter (staff)."""

    service = staticmethod(services.deposit_create)


class WithdrawalCreateView(CashView):
    """Cash paid out at the counter (staff)."""

    service = staticmethod(services.withdrawal_create)


class TransactionDetailView(APIView):
    @extend_schema(responses=TransactionSerializer)
    def get(self, request: Request, pk: str) -> Response:
        txn = transaction_for_user(request.user, pk)
        return Response(transaction_body(txn))


class ApprovalListView(generics.ListAPIView):
    """Pending transactions waiting for a second staff member, oldest first."""

    permission_classes = [IsBankStaff]
    serializer_class = TransactionSerializer
    pagination_class = OldestFirstCursorPagination

    def get_queryset(self):
        return selectors.pending_approvals()


class TransactionApproveView(APIView):
    permission_classes = [IsBankStaff]

    @extend_schema(request=None, responses=TransactionSerializer, parameters=[OPTIONAL_IDEMPOTENCY_HEADER])
    def post(self, request: Request, pk: str) -> Response:
        def operation():
            txn = services.transaction_approve(approver=request.user, transaction_id=parse_id(pk))
            return status.HTTP_200_OK, transaction_body(txn)

        return idempotent_response(request, operation, required=False)


class TransactionRejectView(APIView):
    permission_classes = [IsBankStaff]

    @extend_schema(request=ReasonSerializer, responses=TransactionSerializer, parameters=[OPTIONAL_IDEMPOTENCY_HEADER])
    def post(self, request: Request, pk: str) -> Response:
        def operation():
            params = ReasonSerializer(data=request.data)
            params.is_valid(raise_exception=True)
            txn = services.transaction_reject(
                approver=request.user, transaction_id=parse_id(pk), reason=params.validated_data["reason"]
            )
            return status.HTTP_200_OK, transaction_body(txn)

        return idempotent_response(request, operation, required=False)


class TransactionReverseView(APIView):
    permission_classes = [IsBankStaff]

    @extend_schema(request=ReasonSerializer, responses={201: TransactionSerializer},
                   parameters=[OPTIONAL_IDEMPOTENCY_HEADER])
    def post(self, request: Request, pk: str) -> Response:
        def operation():
            params = ReasonSerializer(data=request.data)
            params.is_valid(raise_exception=True)
            reversal = services.transaction_reverse(
                actor=request.user, transaction_id=parse_id(pk), reason=params.validated_data["reason"]
            )
            return status.HTTP_201_CREATED, transaction_body(reversal)

        return idempotent_response(request, operation, required=False)


