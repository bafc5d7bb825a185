"""The one place that locks ledger rows. Every money movement locks the accounts it touches with
SELECT ... FOR UPDATE in ascending primary-key order, so concurrent movements neither lose an
update nor deadlock. (On SQLite, IMMEDIATE transactions serialise writers instead.)"""

from __future__ import annotations

from collections.abc import Iterable

from banking.models import Account, SuspenseItem, Transaction
from core.db.select import select
from identity.models import User


def lock_accounts(account_ids: Iterable[int]) -> dict[int, Account]:
    """Lock the given accounts, in ascending pk order, and return them fresh from the database."""
    ids = sorted({account_id for account_id in account_ids if account_id is not None})
    locked = Account.objects.select_for_update().filter(pk__in=ids).order_by("pk")
    return {account.pk: account for account in locked}


def _holder_name_sql() -> str:
    """The account holder's name ("first last", trimmed by the reader), as a scalar subquery."""
    users, accounts = User._meta.db_table, Account._meta.db_table
    return (
        f'SELECT u."first_name" || \' \' || u."last_name" FROM "{users}" u '
        f'WHERE u."id" = "{accounts}"."customer_id"'
    )


def lock_account_and_iban(account_id: int, iban: str, *, holder_names: bool = False) -> dict[int, Account]:
    """Lock one account by pk and the account holding `iban` (a transfer's source and
    destination), in ascending pk order, and return them fresh from the database. Written in SQL
    (core/db/select.py): through a QuerySet, compiling this read cost more CPU than running it.

    With `holder_names`, each account also has `holder_name` (its customer's name, None for the
    bank's own accounts), read in the same statement: the verification of payee of a transfer
    that names its payee costs no statement more (the user rows are not locked)."""
    extra = {"holder_name": _holder_name_sql()} if holder_names else None
    return {
        account.pk: account
        for account in select(
            Account, '"id" = %s OR "iban" = %s', [account_id, iban], order_by='"id"', lock=True, extra=extra
        )
    }


def lock_transaction(transaction_id: int) -> Transaction | None:
    """Lock one transaction row (its status is about to change)."""
    return Transaction.objects.select_for_update().filter(pk=transaction_id).first()


def lock_suspense_item(item_id: int) -> SuspenseItem | None:
    """Lock one suspense item (it is about to be resolved): of two resolutions at once, the second
    waits here and then sees the first's. Locked before any account, as a transaction is."""
    return SuspenseItem.objects.select_for_update(of=("self",)).select_related("entry", "placement").filter(
        pk=item_id).first()
