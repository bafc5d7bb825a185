"""Access checks in one place: each returns the object the user may see or raises not-found.
A customer never learns that another customer's object exists."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from banking.models import Account, Beneficiary, Transaction
from core.errors import NotFound
from core.ids import parse_id


def accounts_visible_to(user) -> QuerySet[Account]:
    if user.is_bank_staff:
        return Account.objects.all()
    return Account.objects.filter(customer=user)


def account_visible_to(user, account: Account) -> bool:
    """accounts_visible_to for one account already read (a row locked for a transfer); the two say
    the same (banking/tests/test_access.py)."""
    return user.is_bank_staff or account.customer_id == user.pk


def account_for_user(user, account_id: object) -> Account:
    try:
        return accounts_visible_to(user).get(pk=parse_id(account_id))
    except Account.DoesNotExist:
        raise NotFound("Account not found.") from None


def transactions_visible_to(user) -> QuerySet[Transaction]:
    if user.is_bank_staff:
        return Transaction.objects.all()
    # The customer's account ids as constants, not a join: PostgreSQL then reads the source and
    # destination indexes (a bitmap OR) instead of walking every transaction to test its accounts
    # (1.5 s for a customer with 5 transfers among a million: benchmarks/transfers_pages.py).
    account_ids = list(Account.objects.filter(customer=user).values_list("pk", flat=True))
    return Transaction.objects.filter(Q(source_id__in=account_ids) | Q(destination_id__in=account_ids))


def transaction_for_user(user, transaction_id: object) -> Transaction:
    try:
        return transactions_visible_to(user).select_related("source", "destination").get(
            pk=parse_id(transaction_id)
        )
    except Transaction.DoesNotExist:
        raise NotFound("Transaction not found.") from None


def beneficiaries_visible_to(user) -> QuerySet[Beneficiary]:
    """A customer's own beneficiaries; staff keep none and see no one else's."""
    return Beneficiary.objects.filter(customer_id=user.pk)


def beneficiary_for_user(user, beneficiary_id: object, *, lock: bool = False) -> Beneficiary:
    queryset = beneficiaries_visible_to(user)
    if lock:
        queryset = queryset.select_for_update()
    try:
        return queryset.get(pk=parse_id(beneficiary_id))
    except Beneficiary.DoesNotExist:
        raise NotFound("Beneficiary not found.") from None
