"""Banking API views: parse the request, call one service, render the result."""

from __future__ import annotations

from datetime import datetime

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import generics, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from banking import selectors, services
from banking.access import account_for_user, accounts_visible_to, transaction_for_user
from banking.api import examples
from banking.api.serializers import (
    AccountOpenSerializer,
    AccountSerializer,
    CashSerializer,
    EntrySerializer,
    OverdraftSerializer,
    ReasonSerializer,
    TransactionSerializer,
)
from banking.filters import AccountFilter, EntryFilter
from banking.models import Account, Entry, TransactionKind, TransactionStatus
from core.api.idempotency import idempotent_response
from core.api.pagination import OldestFirstCursorPagination
from core.api.permissions import IsBankStaff, IsSupervisor
from core.api.schema import errors, idempotent
from core.api.serializers import represented
from core.ids import parse_id
from core.money import format_minor


def transaction_body(txn, *, created: bool = False) -> dict:
    """The API's body for a transaction. One a service has just `created` in this request is
    serialised as the service returned it (its accounts are the rows it locked, and it cannot have
    been reversed yet) instead of being read again: one query less per money movement."""
    if not created:
        txn = selectors.transaction_detail_queryset().get(pk=txn.pk)
        return TransactionSerializer(txn).data
    return represented(TransactionSerializer, txn, created=True)


_DATETIME = serializers.DateTimeField()


def posted_transfer_answer(*, initiator, source_account_id: int, amount: int, reference: str, at: datetime) -> dict:
    """transaction_body of a transfer between Flux accounts posted at `at`, without what only its
    locked rows say (id, currency, source_iban, destination_account, destination_iban), which
    services.transfer_posted_at_once adds. The same body (banking/tests/test_transfer_function.py)."""
    when = _DATETIME.to_representation(at)
    return {
        "kind": TransactionKind.TRANSFER.value, "status": TransactionStatus.POSTED.value,
        "amount": format_minor(amount),
        "source_account": source_account_id, "reference": reference, "initiated_by": initiator.pk,
        "created_at": when, "posted_at": when, "expires_at": None, "decided_by": None, "decided_at": None,
        "decision_reason": "", "reverses": None, "reversed_by": None, "reversal_status": None,
        "beneficiary_name": "", "payee_check": "", "sent_at": None, "payer_name": "", "return_of": None,
    }


@extend_schema_view(
    get=extend_schema(
        summary="List accounts",
        description="A customer sees their own accounts; staff see every customer account (filter "
        "`?customer=`). Newest first, cursor-paginated.",
        responses={200: AccountSerializer(many=True), **errors(400)},
        examples=examples.ACCOUNT_EXAMPLES,
    )
)
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

    @extend_schema(
        summary="Open an account (staff)",
        description="Opens a `checking` or `savings` account for a customer; `currency` defaults to EUR. "
        "The IBAN is generated. Only a supervisor sets a non-zero `overdraft_limit`: an agent asking for "
        "one gets 403 `permission_denied` and nothing is created.",
        request=AccountOpenSerializer,
        responses={201: AccountSerializer, **errors(400, 403)},
        examples=examples.ACCOUNT_OPEN_EXAMPLES,
    )
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
    @extend_schema(
        summary="One account",
        description="The owner or staff. Another customer's account is 404, as if it did not exist.",
        responses={200: AccountSerializer, **errors(404)},
        examples=examples.ACCOUNT_EXAMPLES,
    )
    def get(self, request: Request, pk: str) -> Response:
        return Response(AccountSerializer(account_for_user(request.user, pk)).data)


@extend_schema_view(
    get=extend_schema(
        summary="An account's entries",
        description="Newest first, cursor-paginated. `amount` is signed (money out is negative); "
        "`min` and `max` compare the absolute amount.",
        responses={200: EntrySerializer(many=True), **errors(400, 404)},
        examples=examples.ENTRY_EXAMPLES,
    )
)
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

    @extend_schema(
        request=ReasonSerializer,
        responses={200: AccountSerializer, **errors(400, 403, 404, "account_frozen", "account_not_frozen",
                                                   "account_closed", "account_not_empty")},
        examples=examples.REASON_EXAMPLES,
    )
    def post(self, request: Request, pk: str) -> Response:
        params = ReasonSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        account = type(self).service(
            actor=request.user, account_id=parse_id(pk), reason=params.validated_data["reason"]
        )
        return Response(AccountSerializer(account).data)


@extend_schema_view(post=extend_schema(
    summary="Freeze an account (staff)",
    description="A frozen account takes no debit and no credit. 409 `account_frozen` when it already is, "
    "`account_closed` when it is closed.",
))
class AccountFreezeView(AccountLifecycleView):
    service = staticmethod(services.account_freeze)


@extend_schema_view(post=extend_schema(
    summary="Unfreeze an account (staff)",
    description="409 `account_not_frozen` when it is not frozen, `account_closed` when it is closed.",
))
class AccountUnfreezeView(AccountLifecycleView):
    service = staticmethod(services.account_unfreeze)


@extend_schema_view(post=extend_schema(
    summary="Close an account (staff)",
    description="Final. Only with a zero balance and nothing pending (409 `account_not_empty`); 409 "
    "`account_closed` when it already is.",
))
class AccountCloseView(AccountLifecycleView):
    service = staticmethod(services.account_close)


class AccountOverdraftView(APIView):
    """Change an account's overdraft limit (supervisors only), with a reason."""

    permission_classes = [IsSupervisor]

    @extend_schema(
        summary="Change an account's overdraft limit (supervisors)",
        description="422 `insufficient_funds` when the account already uses more overdraft than the new "
        "limit; 409 `account_closed`.",
        request=OverdraftSerializer,
        responses={200: AccountSerializer, **errors(400, 403, 404, "account_closed", "insufficient_funds")},
        examples=examples.OVERDRAFT_EXAMPLES,
    )
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


class CashView(APIView):
    permission_classes = [IsBankStaff]
    service = None

    @extend_schema(
        request=CashSerializer,
        responses={
            201: TransactionSerializer,
            **errors(400, "idempotency_key_missing", 403, 404, "account_frozen", "account_closed",
                     "insufficient_funds", "unknown_account", "idempotency_key_reused"),
        },
        parameters=idempotent(201),
        examples=examples.CASH_EXAMPLES,
    )
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
            return status.HTTP_201_CREATED, transaction_body(txn, created=True)

        return idempotent_response(request, operation)


@extend_schema_view(post=extend_schema(
    summary="Cash deposit (staff)",
    description="Cash paid in at the counter; `pending` at or above the cash approval threshold. Requires "
    "an `Idempotency-Key`.",
))
class DepositCreateView(CashView):
    """Cash paid in at the counter (staff)."""

    service = staticmethod(services.deposit_create)


@extend_schema_view(post=extend_schema(
    summary="Cash withdrawal (staff)",
    description="Cash paid out at the counter (422 `insufficient_funds` beyond the available amount); "
    "`pending` and held at or above the cash approval threshold. Requires an `Idempotency-Key`.",
))
class WithdrawalCreateView(CashView):
    """Cash paid out at the counter (staff)."""

    service = staticmethod(services.withdrawal_create)


class TransactionDetailView(APIView):
    @extend_schema(
        summary="One transaction",
        description="Its parties (the customers whose accounts it touches) and staff; anyone else gets 404.",
        responses={200: TransactionSerializer, **errors(404)},
        examples=examples.TRANSACTION_EXAMPLES,
    )
    def get(self, request: Request, pk: str) -> Response:
        txn = transaction_for_user(request.user, pk)
        return Response(transaction_body(txn))


@extend_schema_view(
    get=extend_schema(
        summary="Pending transactions (staff)",
        description="Transactions waiting for a second staff member, oldest first, cursor-paginated.",
        responses={200: TransactionSerializer(many=True), **errors(400, 403)},
        examples=examples.APPROVAL_LIST_EXAMPLES,
    )
)
class ApprovalListView(generics.ListAPIView):
    """Pending transactions waiting for a second staff member, oldest first."""

    permission_classes = [IsBankStaff]
    serializer_class = TransactionSerializer
    pagination_class = OldestFirstCursorPagination

    def get_queryset(self):
        return selectors.pending_approvals()


class TransactionApproveView(APIView):
    permission_classes = [IsBankStaff]

    @extend_schema(
        summary="Approve a pending transaction (staff)",
        description="Posts it. Staff other than its initiator (403 `permission_denied`); an agent only up "
        "to the agent approval limit (403 `approval_limit_exceeded`). 409 `not_pending` once decided or "
        "voided. A reversal posts every entry of its original negated.",
        request=None,
        responses={
            200: TransactionSerializer,
            **errors(400, 403, "approval_limit_exceeded", 404, "not_pending", "account_frozen", "account_closed",
                     "insufficient_funds", "idempotency_key_reused"),
        },
        parameters=idempotent(200, required=False),
        examples=examples.APPROVE_EXAMPLES,
    )
    def post(self, request: Request, pk: str) -> Response:
        def operation():
            txn = services.transaction_approve(approver=request.user, transaction_id=parse_id(pk))
            return status.HTTP_200_OK, transaction_body(txn)

        return idempotent_response(request, operation, required=False)


class TransactionRejectView(APIView):
    permission_classes = [IsBankStaff]

    @extend_schema(
        summary="Reject a pending transaction (staff)",
        description="Releases its hold; nothing moves. Staff other than its initiator; 409 `not_pending` "
        "once decided or voided.",
        request=ReasonSerializer,
        responses={
            200: TransactionSerializer,
            **errors(400, 403, 404, "not_pending", "idempotency_key_reused"),
        },
        parameters=idempotent(200, required=False),
        examples=examples.REJECT_EXAMPLES,
    )
    def post(self, request: Request, pk: str) -> Response:
        def operation():
            params = ReasonSerializer(data=request.data)
            params.is_valid(raise_exception=True)
            txn = services.transaction_reject(
                approver=request.user, transaction_id=parse_id(pk), reason=params.validated_data["reason"]
            )
            return status.HTTP_200_OK, transaction_body(txn)

        return idempotent_response(request, operation, required=False)


class TransactionCancelView(APIView):
    @extend_schema(
        summary="Cancel a pending transaction",
        description="Withdraws it before anyone decides it: `cancelled`, its hold released (available "
        "restored, balance unchanged), nothing moves. The customer who made it, or staff. Another "
        "customer's transaction is 404 `not_found`; a party who did not make it (the payee) gets 403 "
        "`permission_denied`; 409 `not_pending` once decided, cancelled or voided.",
        request=None,
        responses={
            200: TransactionSerializer,
            **errors(400, 403, 404, "not_pending", "idempotency_key_reused"),
        },
        parameters=idempotent(200, required=False),
        examples=examples.CANCEL_EXAMPLES,
    )
    def post(self, request: Request, pk: str) -> Response:
        def operation():
            txn = services.transaction_cancel(actor=request.user, transaction_id=parse_id(pk))
            return status.HTTP_200_OK, transaction_body(txn)

        return idempotent_response(request, operation, required=False)


class TransactionReverseView(APIView):
    permission_classes = [IsBankStaff]

    @extend_schema(
        summary="Ask for the reversal of a posted transaction (staff)",
        description="201 with the reversal, a compensating transaction linked to the original, `pending` "
        "whatever the amount: another member of staff approves it (transactions/{id}/approve/, then every "
        "entry of the original is negated) or rejects it. While it waits, the amount is held on the customer "
        "account it will debit (the reversal of a deposit or of a transfer between customers), never on the "
        "customer it will credit. At most once: a pending or posted reversal refuses another with 409 "
        "`already_reversed` (a rejected, cancelled or voided one does not); a reversal is `not_reversible`; "
        "only `posted` transactions are reversed.",
        request=ReasonSerializer,
        responses={
            201: TransactionSerializer,
            **errors(400, 403, 404, "not_posted", "already_reversed", "not_reversible", "account_frozen",
                     "account_closed", "insufficient_funds", "idempotency_key_reused"),
        },
        parameters=idempotent(201, required=False),
        examples=examples.REVERSE_EXAMPLES,
    )
    def post(self, request: Request, pk: str) -> Response:
        def operation():
            params = ReasonSerializer(data=request.data)
            params.is_valid(raise_exception=True)
            reversal = services.transaction_reverse(
                actor=request.user, transaction_id=parse_id(pk), reason=params.validated_data["reason"]
            )
            return status.HTTP_201_CREATED, transaction_body(reversal)

        return idempotent_response(request, operation, required=False)


