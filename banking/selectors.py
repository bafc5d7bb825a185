"""Non-trivial reads of banking data."""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.utils import timezone

from banking.access import transactions_visible_to
from banking.models import Account, Entry, Transaction, TransactionKind, TransactionStatus
from identity.models import Role, User


def entry_list_for_account(*, account: Account) -> QuerySet[Entry]:
    """An account's entries, newest first, ready for cursor pagination on (account, id)."""
    return Entry.objects.filter(account=account).select_related("transaction").order_by("-id")


def transaction_detail_queryset() -> QuerySet[Transaction]:
    return Transaction.objects.select_related("source", "destination", "reversal")


def transfer_list_for_user(*, user) -> QuerySet[Transaction]:
    """Transfers (to Flux or other banks) the user may see, newest first: a customer's own, from
    or to any of their accounts; staff see all."""
    return (
        transactions_visible_to(user)
        .filter(kind__in=[TransactionKind.TRANSFER, TransactionKind.EXTERNAL_TRANSFER])
        .select_related("source", "destination", "reversal")
        .order_by("-id")
    )


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
