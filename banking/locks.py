"""The one place that locks ledger rows. Every money movement locks the accounts it touches with
SELECT ... FOR UPDATE in ascending primary-key order, so concurrent movements neither lose an
update nor deadlock. (On SQLite, IMMEDIATE transactions serialise writers instead.)"""

from __future__ import annotations

from collections.abc import Iterable

from banking.models import Account, Transaction
from core.db.select import select


def lock_accounts(account_ids: Iterable[int]) -> dict[int, Account]:
    """Lock the given accounts, in ascending pk order, and return them fresh from the database."""
    ids = sorted({account_id for account_id in account_ids if account_id is not None})
    locked = Account.objects.select_for_update().filter(pk__in=ids).order_by("pk")
    return {account.pk: account for account in locked}


def lock_account_and_iban(account_id: int, iban: str) -> dict[int, Account]:
    """Lock one account by pk and the account holding `iban` (a transfer's source and
    destination), in ascending pk order, and return them fresh from the database. Written in SQL
    (core/db/select.py): through a QuerySet, compiling this read cost more CPU than running it."""
    return {
        account.pk: account
        for account in select(Account, '"id" = %s OR "iban" = %s', [account_id, iban], order_by='"id"', lock=True)
    }


def lock_transaction(transaction_id: int) -> Transaction | None:
    """Lock one transaction row (its status is about to change)."""
    return Transaction.objects.select_for_update().filter(pk=transaction_id).first()
