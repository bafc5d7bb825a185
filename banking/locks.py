"""The one place that locks ledger rows. Every money movement locks the accounts it touches with
SELECT ... FOR UPDATE in ascending primary-key order, so concurrent movements neither lose an
update nor deadlock. (On SQLite, IMMEDIATE transactions serialise writers instead.)"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import connection
from django.db.models import Exists, OuterRef
from django.db.models.expressions import RawSQL

from banking.models import (
    LIVE_REVERSAL_STATUSES,
    Account,
    SuspenseItem,
    Transaction,
    TransactionKind,
    TransactionStatus,
)
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


def lock_transfers_to_clear(currency: str) -> list[int]:
    """Lock and return (oldest first) the ids of the transfers to another bank that the next
    clearing run of `currency` sends: posted, in no file yet, with no pending or posted reversal.

    SKIP LOCKED: a row another transaction holds is left for a later run, never waited for. Two
    runs at once therefore split the waiting transfers between them (each row is in one file
    only: the second run's lock waits for nobody and sees the first's rows as taken), and a run
    never blocks on, nor deadlocks with, a reversal being requested (it locks the original,
    banking.services.reversals) or approved (it locks the original too,
    banking.services.approvals): such a transfer waits for the next run.

    A reversal committed after this statement's snapshot but before its row lock is not seen by
    the NOT EXISTS here, so the rows kept are checked again, in a new statement, once locked: from
    then on no reversal of them can be requested or approved before this transaction ends (both
    lock the original first), and afterwards they are `sent`, which no reversal accepts."""
    live = Transaction.objects.filter(reverses=OuterRef("pk"), status__in=LIVE_REVERSAL_STATUSES)
    ids = list(
        Transaction.objects.select_for_update(skip_locked=True, of=("self",))
        .filter(kind=TransactionKind.EXTERNAL_TRANSFER, status=TransactionStatus.POSTED, clearing_run__isnull=True,
                currency=currency)
        .exclude(Exists(live))
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    if not ids:
        return ids
    reversed_meanwhile = set(
        Transaction.objects.filter(reverses__in=ids_filter(ids), status__in=LIVE_REVERSAL_STATUSES)
        .values_list("reverses_id", flat=True)
    )
    return [pk for pk in ids if pk not in reversed_meanwhile]


def ids_filter(ids: list[int]):
    """`ids` for an `__in` lookup: one array parameter on PostgreSQL (`= ANY(%s)`: 10,000 ids are
    one parameter, not 10,000, which PostgreSQL caps at 65,535), the list elsewhere."""
    if connection.vendor == "postgresql":
        return RawSQL("SELECT unnest(%s::bigint[])", [ids])
    return ids


def lock_suspense_item(item_id: int) -> SuspenseItem | None:
    """Lock one suspense item (it is about to be resolved): of two resolutions at once, the second
    waits here and then sees the first's. Locked before any account, as a transaction is."""
    return SuspenseItem.objects.select_for_update(of=("self",)).select_related("entry", "placement").filter(
        pk=item_id).first()
