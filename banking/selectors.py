"""Non-trivial reads of banking data."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.core.paginator import Page, Paginator
from django.db.models import CharField, F, FilteredRelation, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Cast, Concat, Trim
from django.utils import timezone
from django.utils.translation import gettext

from audit.actions import ACCOUNT_FROZEN
from audit.models import AuditEvent
from audit.selectors import event_queryset_about
from banking.access import transactions_visible_to
from banking.models import (
    LIVE_REVERSAL_STATUSES,
    Account,
    AccountStatus,
    Beneficiary,
    Entry,
    PayeeCheck,
    Transaction,
    TransactionKind,
    TransactionStatus,
)
from core.errors import NotFound
from core.ids import parse_id
from identity.models import Role, User

CASH_COUNTERPARTY = "Cash"  # what banking.services.movements writes on a cash entry
PAID_FROM_ANOTHER_BANK = (TransactionKind.INCOMING_TRANSFER, TransactionKind.RETURN)


def with_counterparty_names(entries: QuerySet[Entry]) -> QuerySet[Entry]:
    """Entries with what `counterparty_name_of` needs, in the same query (two correlated
    subqueries, each an index lookup): `counterparty_holder`, the name of the customer holding the
    counterparty IBAN when it is a Flux account, and `counterparty_saved`, the name the entry's
    account holder saved for that IBAN as a beneficiary. Entries are append-only (a trigger refuses
    UPDATE), so the name is derived when read, never stored on the entry."""
    holder = (
        Account.objects.filter(iban=OuterRef("counterparty"), customer__isnull=False)
        .annotate(holder_name=Trim(Concat("customer__first_name", Value(" "), "customer__last_name")))
        .values("holder_name")[:1]
    )
    saved = Beneficiary.objects.filter(
        customer_id=OuterRef("account__customer_id"), iban=OuterRef("counterparty")
    ).values("name")[:1]
    return entries.annotate(
        counterparty_holder=Subquery(holder, output_field=CharField()),
        counterparty_saved=Subquery(saved, output_field=CharField()),
    )


def named_as_typed(txn: Transaction) -> bool:
    """Whether the payer is shown the payee's name as they typed it: after a payee check that said
    no_match, the holder's name is never revealed to them, not even once the money has gone (their
    history, the transaction's page and its receipt name the payee as instructed)."""
    return txn.payee_check == PayeeCheck.NO_MATCH and bool(txn.beneficiary_name)


def counterparty_name_of(entry: Entry) -> str:
    """Who is on the other side of `entry`, as its account holder should read it: "Cash" (in the
    reader's language) for cash at the counter; the holder's name for a Flux account; for another
    bank's IBAN, the name given with the transfer (`beneficiary_name`), else the name of a saved
    beneficiary with that IBAN; for money from another bank, the payer its bank named
    (`payer_name`; a RETURN: the payee of the transfer that came back); "" when none is known.
    Needs `with_counterparty_names` (without it,
    only "Cash" and the transfer's own name are known) and the entry's transaction (select_related)."""
    if entry.counterparty == CASH_COUNTERPARTY:
        return gettext("Cash")
    if entry.amount < 0 and named_as_typed(entry.transaction):
        return entry.transaction.beneficiary_name
    if entry.amount > 0 and entry.transaction.payer_name and entry.transaction.kind in PAID_FROM_ANOTHER_BANK:
        # Money from another bank: the payer as their bank named them; a RETURN: the original's payee.
        return entry.transaction.payer_name
    holder = getattr(entry, "counterparty_holder", None)
    if holder:
        return holder
    txn = entry.transaction
    if txn.beneficiary_name and txn.external_iban and txn.external_iban == entry.counterparty:
        return txn.beneficiary_name
    return getattr(entry, "counterparty_saved", None) or ""


def entry_list_for_account(*, account: Account) -> QuerySet[Entry]:
    """An account's entries, newest first, ready for cursor pagination on (account, id), each with
    its counterparty's name (counterparty_name_of)."""
    return with_counterparty_names(
        Entry.objects.filter(account=account).select_related("transaction").order_by("-id")
    )


def with_reversal(transactions: QuerySet, *, prefix: str = "") -> QuerySet:
    """Each transaction with `standing_reversal_id` and `standing_reversal_status`: its pending or
    posted reversal, or None, from one join in the same query (the partial unique constraint allows
    at most one such row, so the join adds no rows). With a `prefix` ("transaction__"), the same for
    a related transaction, as `transaction_standing_reversal_id` and `..._status`."""
    join = f"{prefix.replace('__', '_')}standing_reversal"
    relation = FilteredRelation(
        f"{prefix}reversals", condition=Q(**{f"{prefix}reversals__status__in": LIVE_REVERSAL_STATUSES})
    )
    return transactions.annotate(**{join: relation}).annotate(
        **{f"{join}_id": F(f"{join}__id"), f"{join}_status": F(f"{join}__status")}
    )


def standing_reversal_of(original: Transaction) -> Transaction | None:
    """The reversal of `original` that is pending or posted, if any (at most one exists)."""
    return original.reversals.filter(status__in=LIVE_REVERSAL_STATUSES).first()


def transaction_detail_queryset() -> QuerySet[Transaction]:
    return with_reversal(Transaction.objects.select_related("source", "destination"))


def transfer_list_for_user(*, user) -> QuerySet[Transaction]:
    """Transfers (to Flux or other banks) the user may see, newest first: a customer's own, from
    or to any of their accounts; staff see all."""
    transfers = (
        transactions_visible_to(user)
        .filter(kind__in=[TransactionKind.TRANSFER, TransactionKind.EXTERNAL_TRANSFER])
        .select_related("source", "destination")
        .order_by("-id")
    )
    return with_reversal(transfers)


def pending_approvals() -> QuerySet[Transaction]:
    """Pending transactions that can still be decided, oldest first."""
    return (
        transaction_detail_queryset()
        .filter(status=TransactionStatus.PENDING, expires_at__gt=timezone.now())
        .order_by("id")
    )


def customer_search(*, query: str = "") -> QuerySet[User]:
    """Customers matching a name, username, email, phone or (part of) an IBAN.

    Every word must match some field ("alice liddell" finds Alice Liddell); a query that looks
    like an IBAN fragment with spaces ("FLUX 0000") is also tried without them."""
    customers = User.objects.filter(role=Role.CUSTOMER)
    query = query.strip()[:100]
    if not query:
        return customers
    compact = "".join(query.split()).upper()
    iban_match = Q(pk__in=Account.objects.filter(iban__contains=compact).values("customer_id"))
    words = Q()
    for word in query.split():
        words &= (
            Q(username__icontains=word)
            | Q(first_name__icontains=word)
            | Q(last_name__icontains=word)
            | Q(email__icontains=word)
            | Q(phone__icontains=word)
            | Q(pk__in=Account.objects.filter(iban__contains=word.upper()).values("customer_id"))
        )
    return customers.filter(words | iban_match)


def customer_event_queryset(*, customer_id: int) -> QuerySet[AuditEvent]:
    """The audit events about this customer (as a customer or a user: sign-ins, profile changes),
    one of their accounts, or a transaction touching one of their accounts. One query."""
    accounts = Account.objects.filter(customer_id=customer_id)
    transactions = Transaction.objects.filter(Q(source__in=accounts) | Q(destination__in=accounts))
    return event_queryset_about({
        "customer": [str(customer_id)],
        "user": [str(customer_id)],
        "account": accounts.annotate(target=Cast("pk", CharField())).values("target"),
        "transaction": transactions.annotate(target=Cast("pk", CharField())).values("target"),
    })


def customer_events(*, customer_id: int, limit: int = 50) -> list[AuditEvent]:
    """The newest `limit` events of `customer_event_queryset`, newest first."""
    return list(customer_event_queryset(customer_id=customer_id).order_by("-occurred_at", "-pk")[:limit])


def customer_event_page(*, customer_id: int, page: object, per_page: int = 20) -> Page:
    """One page (`page`, 1 = the newest; a page that is not one gives the nearest) of the events
    of `customer_event_queryset`, newest first: the desk's customer page lists them page by page
    rather than as one wall."""
    events = customer_event_queryset(customer_id=customer_id).order_by("-occurred_at", "-pk")
    return Paginator(events, per_page).get_page(page)


def recent_transactions_of_customer(*, customer, limit: int) -> list[Transaction]:
    """The customer's newest `limit` transactions (from or to any of their accounts), newest
    first, each with its standing reversal (with_reversal): the desk's customer page."""
    return list(
        with_reversal(Transaction.objects.filter(Q(source__customer=customer) | Q(destination__customer=customer)))
        .select_related("source", "destination", "initiated_by")
        .order_by("-id")[:limit]
    )


def pending_transactions_of_account(*, account: Account) -> list[Transaction]:
    """The account's transactions waiting for a decision (from or to it), oldest first."""
    return list(
        Transaction.objects.filter(Q(source=account) | Q(destination=account), status=TransactionStatus.PENDING)
        .select_related("initiated_by")
        .order_by("id")
    )


def pending_transfers_of_customer(*, customer, account: Account | None = None) -> list[Transaction]:
    """The transfers `customer` made that wait for approval (not yet expired), from any of their
    accounts or from `account` only, oldest first: what the customer may still cancel."""
    pending = Transaction.objects.filter(
        Q(expires_at__isnull=True) | Q(expires_at__gt=timezone.now()),
        status=TransactionStatus.PENDING,
        initiated_by=customer,
        kind__in=[TransactionKind.TRANSFER, TransactionKind.EXTERNAL_TRANSFER],
        source__customer=customer,
    )
    if account is not None:
        pending = pending.filter(source=account)
    return list(pending.select_related("source", "destination").order_by("created_at", "id"))


@dataclass(frozen=True)
class TimelineStep:
    """One step of a transaction's status history: what happened (`event`: created, pending,
    posted, approved, rejected, cancelled, expired (the step of a `voided` transaction), sent,
    reversal_requested, reversed), when, by whom (a user or None for the system) and why (a
    rejection's reason)."""

    event: str
    at: datetime
    actor: User | None = None
    reason: str = ""


def transaction_timeline(txn: Transaction) -> list[TimelineStep]:
    """A transaction's status history, oldest first, from its own fields (created, posted, decided)
    and its standing reversal's: Transaction keeps every time and decider it went through."""
    steps = [TimelineStep("created", txn.created_at, txn.initiated_by)]
    decided = {
        TransactionStatus.REJECTED: "rejected",
        TransactionStatus.CANCELLED: "cancelled",
        TransactionStatus.VOIDED: "expired",
    }
    if txn.decided_at is None and txn.status == TransactionStatus.PENDING:
        steps.append(TimelineStep("pending", txn.created_at))
    elif txn.decided_at is not None:
        steps.append(TimelineStep("pending", txn.created_at))
        if txn.posted_at is not None:  # approved, whatever came after (sent, returned, reversed)
            steps.append(TimelineStep("approved", txn.decided_at, txn.decided_by))
        elif txn.status in decided:
            steps.append(TimelineStep(decided[txn.status], txn.decided_at, txn.decided_by, txn.decision_reason))
    elif txn.status == TransactionStatus.VOIDED:
        steps.append(TimelineStep("expired", txn.created_at))
    if txn.posted_at is not None:
        steps.append(TimelineStep("posted", txn.posted_at))
    if txn.sent_at is not None:  # a transfer to another bank, in a clearing run's file
        steps.append(TimelineStep("sent", txn.sent_at))
    reversal = standing_reversal_of(txn)
    if reversal is not None:
        steps.append(TimelineStep("reversal_requested", reversal.created_at, reversal.initiated_by))
        if reversal.posted_at is not None:
            steps.append(TimelineStep("reversed", reversal.posted_at, reversal.decided_by))
    if txn.status == TransactionStatus.RETURNED:
        # Credited back by a RETURN (banking/clearing/statements.py): when the other bank's return was booked.
        returned = txn.returns.only("posted_at").first()
        if returned is not None and returned.posted_at is not None:
            steps.append(TimelineStep("returned", returned.posted_at))
    return sorted(steps, key=lambda step: step.at)


def transaction_for_staff_page(*, user, transaction_id: object) -> Transaction:
    """One transaction `user` may see, with its parties, initiator, decider and original (the desk's
    transaction page). Errors: not_found (unknown, malformed id, or not visible)."""
    try:
        return (
            transactions_visible_to(user)
            .select_related("source__customer", "destination__customer", "initiated_by", "decided_by", "reverses")
            .get(pk=parse_id(transaction_id))
        )
    except Transaction.DoesNotExist:
        raise NotFound("Transaction not found.") from None


def entries_of_transaction(txn: Transaction) -> list[Entry]:
    """A transaction's entries with their accounts, in the order they were written."""
    return list(txn.entries.select_related("account").order_by("id"))


def freeze_reasons(*, accounts: list[Account]) -> dict[int, str]:
    """The reason each frozen account of `accounts` was frozen for (the latest account.frozen
    event's reason), by account id: what the customer is told, beside "Frozen". One query."""
    frozen = [str(account.pk) for account in accounts if account.status == AccountStatus.FROZEN]
    if not frozen:
        return {}
    events = AuditEvent.objects.filter(
        action=ACCOUNT_FROZEN, target_type="account", target_id__in=frozen
    ).order_by("target_id", "-occurred_at", "-pk").values_list("target_id", "data")
    reasons: dict[int, str] = {}
    for target_id, data in events:
        reasons.setdefault(int(target_id), str((data or {}).get("reason") or ""))
    return reasons
