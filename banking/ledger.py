"""Posting primitives. Callers have already locked every account they pass (banking.locks).

Every check runs on the locked rows in memory and each change is made to them in memory first,
so a later check sees an earlier change before anything is written; the writes then go out
together: `post` writes one transaction's entries and balances at once, `Postings` the
transactions, entries, balances, holds and audit events of many movements in five statements.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from audit.services import AuditRecord, audit_parts, audit_record_many
from banking.iban import generate_flux_iban
from banking.models import Account, AccountKind, AccountStatus, Entry, Transaction, TransactionKind
from core.db.insert import insert_all, insert_sql, mark_saved, write_together
from core.errors import ApplicationError
from core.metrics import count_transactions
from core.money import format_minor


@dataclass(frozen=True)
class Leg:
    account: Account
    amount: int  # signed minor units: negative debits, positive credits
    counterparty: str


def ensure_open(account: Account) -> None:
    """Frozen accounts take no debit and no credit; closed ones nothing at all."""
    if account.status == AccountStatus.FROZEN:
        raise ApplicationError("account_frozen", f"Account {account.iban} is frozen.")
    if account.status == AccountStatus.CLOSED:
        raise ApplicationError("account_closed", f"Account {account.iban} is closed.")


def ensure_available(account: Account, amount: int) -> None:
    """A customer account may spend `amount` only if it stays within its overdraft limit."""
    if not account.is_internal and account.available < amount:
        raise ApplicationError(
            "insufficient_funds", f"Account {account.iban} does not have enough available funds."
        )


def _move(txn: Transaction, legs: list[Leg], *, at: datetime) -> list[Entry]:
    """The entries of `txn`, its legs' balances moved in memory (nothing written yet).

    The legs must sum to zero. Each debited customer account must stay within its overdraft
    limit after the posting (holds included), or `insufficient_funds` is raised before any change.
    """
    if sum(leg.amount for leg in legs) != 0 or len(legs) < 2:
        raise ValueError("a posted transaction needs two or more entries summing to zero")
    for leg in legs:
        if leg.amount < 0:
            ensure_available(leg.account, -leg.amount)
    entries = []
    for leg in legs:
        leg.account.balance += leg.amount
        entries.append(
            Entry(
                transaction=txn,
                account=leg.account,
                amount=leg.amount,
                balance_after=leg.account.balance,
                counterparty=leg.counterparty,
                created_at=at,
            )
        )
    return entries


def _save_accounts(accounts: list[Account]) -> None:
    """Write the balances and holds of locked accounts, in one round trip however many (psycopg
    sends an executemany as a pipeline). Django's bulk_update builds a CASE per field and row: 0.8 s
    of CPU for 500 accounts (cProfile, benchmarks/bulk_import.py)."""
    if accounts:
        table = connection.ops.quote_name(Account._meta.db_table)
        with connection.cursor() as cursor:
            cursor.executemany(
                f"UPDATE {table} SET balance = %s, held = %s WHERE id = %s",
                [(account.balance, account.held, account.pk) for account in accounts],
            )


def _accounts_update_sql(accounts: list[Account]) -> tuple[str, list]:
    """_save_accounts as one statement (an UPDATE ... FROM VALUES), for write_together."""
    table = connection.ops.quote_name(Account._meta.db_table)
    rows = ", ".join(["(%s::bigint, %s::bigint, %s::bigint)"] * len(accounts))
    return (
        f"UPDATE {table} SET balance = v.balance, held = v.held FROM (VALUES {rows}) AS v (id, balance, held) "
        f"WHERE {table}.id = v.id",
        [value for account in accounts for value in (account.pk, account.balance, account.held)],
    )


def post(txn: Transaction, legs: list[Leg], *, at: datetime) -> list[Entry]:
    """Write the entries of `txn` (already saved) and move the stored balances with them.

    The legs must sum to zero. Each debited customer account must stay within its overdraft
    limit after the posting (holds included), or `insufficient_funds` is raised before any write.
    """
    entries = _move(txn, legs, at=at)
    _save_accounts(list({entry.account.pk: entry.account for entry in entries}.values()))
    insert_all(entries)
    return entries


def transaction_audit_data(txn: Transaction) -> dict:
    """How an audit event describes a transaction. Money from another bank (an incoming transfer,
    a return) goes to its Flux account (`destination`); `external_iban` is then its payer's."""
    from_other_bank = txn.kind in (TransactionKind.INCOMING_TRANSFER, TransactionKind.RETURN)
    destination = txn.destination.iban if txn.destination_id else None
    if txn.external_iban and not from_other_bank:
        destination = txn.external_iban
    return {
        "kind": txn.kind,
        "status": txn.status,
        "amount": format_minor(txn.amount),
        "currency": txn.currency,
        "source": txn.source.iban if txn.source_id else None,
        "destination": destination,
        "reference": txn.reference,
    } | ({"payee_check": txn.payee_check} if txn.payee_check else {}) | (
        {"payer_iban": txn.external_iban, "payer_name": txn.payer_name} if from_other_bank else {}) | (
        {"return_of": txn.return_of_id} if txn.return_of_id else {})


class Postings:
    """New transactions of one database transaction, written together at `flush`.

    A money movement checks its locked accounts, then stages here its transaction (posted, with
    the entries its legs make, or pending), the hold it places and its audit event. Balances and
    holds change in memory at once, so the next movement's checks see them; `flush` then writes
    everything in five statements, however many movements: the transactions, their entries, the
    accounts' balances and holds, the audit events and their outbox rows. A batch of 1,000
    transfers took some 7,000 statements one movement at a time (benchmarks/capacity.py, issue 11).
    Nothing is written before `flush`: a movement refused after others were staged leaves nothing
    of its own, and a batch refused as a whole writes nothing at all.
    """

    def __init__(self) -> None:
        self._transactions: list[Transaction] = []
        self._entries: list[Entry] = []
        self._accounts: dict[int, Account] = {}
        self._audit: list[tuple[Transaction, object, str]] = []

    def hold(self, account: Account, amount: int) -> None:
        """Hold `amount` on `account` (a pending movement's); its availability was checked."""
        account.held += amount
        self._accounts[account.pk] = account

    def add(self, txn: Transaction, legs: list[Leg] | None, *, at: datetime, actor, action: str) -> None:
        """Stage `txn` (not saved yet), its entries when `legs` are given (it is posted), and the
        audit event `action` by `actor` that describes it (transaction_audit_data)."""
        if legs:
            entries = _move(txn, legs, at=at)
            self._entries.extend(entries)
            for entry in entries:
                self._accounts[entry.account.pk] = entry.account
        self._transactions.append(txn)
        self._audit.append((txn, actor, action))

    def flush(self) -> None:
        if not self._transactions:
            return
        if len(self._transactions) == 1 and connection.vendor == "postgresql":
            self._flush_one()
            return
        insert_all(self._transactions)  # sets each pk (RETURNING)
        count_transactions((txn.kind, txn.status) for txn in self._transactions)
        insert_all(self._entries)
        _save_accounts(list(self._accounts.values()))
        audit_record_many(
            [
                AuditRecord(actor=actor, action=action, target_type="transaction", target_id=txn.pk,
                            data=transaction_audit_data(txn))
                for txn, actor, action in self._audit
            ]
        )
        self._transactions, self._entries, self._accounts, self._audit = [], [], {}, []

    def _flush_one(self) -> None:
        """One movement (a single transfer, deposit or withdrawal): its transaction, entries,
        balances, audit event and outbox row in one statement (core.db.insert.write_together),
        where `flush` sends five. On PostgreSQL; the same rows as `flush` writes."""
        [txn], [(_, actor, action)] = self._transactions, self._audit
        entries, accounts = self._entries, list(self._accounts.values())
        event, audit = audit_parts(
            AuditRecord(actor=actor, action=action, target_type="transaction", data=transaction_audit_data(txn)),
            target_id_sql="(SELECT id::text FROM t)",
        )
        parts = [("t", *insert_sql([txn]))]
        if entries:
            parts.append(("e", *insert_sql(entries, expressions={"transaction": "(SELECT id FROM t)"})))
        if accounts:
            parts.append(("a", *_accounts_update_sql(accounts)))
        txn_id, event_id = write_together(parts + audit, "SELECT (SELECT id FROM t), (SELECT id FROM ev)")
        mark_saved([txn], [txn_id])
        for entry in entries:
            entry.transaction = txn  # its transaction_id, now known (the entries' own ids are not read back)
        mark_saved(entries)
        event.target_id = str(txn_id)
        mark_saved([event], [event_id])
        count_transactions([(txn.kind, txn.status)])
        self._transactions, self._entries, self._accounts, self._audit = [], [], {}, []


def internal_account(kind: AccountKind, currency: str) -> Account:
    """The bank's cash vault or external clearing account for a currency, created on first use."""
    account = Account.objects.filter(kind=kind, currency=currency).first()
    if account is not None:
        return account
    try:
        with transaction.atomic():  # a savepoint: a concurrent creator wins, we read its row
            return Account.objects.create(
                kind=kind, currency=currency, iban=generate_flux_iban(), opened_at=timezone.now()
            )
    except IntegrityError:
        return Account.objects.get(kind=kind, currency=currency)
