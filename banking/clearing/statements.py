"""camt.053 statements in: money from other banks reaches the right customer exactly once.

A statement of Flux's account at its correspondent (FLUX_CLEARING_IBAN) is read entry by entry
(banking.clearing.camt053), in file order, and each entry gets one outcome (StatementEntryOutcome):

- its key (AcctSvcrRef, else EndToEndId, else the statement's MsgId and the entry's place in it)
  was applied before, by any statement or earlier in this file: DUPLICATE, nothing moves;
- a credit that is a return (a return reason, or the bank transaction code RRTN) of one of our
  transfers to another bank (EndToEndId = the transfer's id, as the pain.001 files write it),
  `sent`, of that amount and currency: a RETURN from clearing back to the account it left, the
  transfer becomes `returned` (audited transaction.returned: its payer is told): RETURNED. No such
  transfer, or its account frozen or closed: SUSPENSE (unknown_return, account_frozen,
  account_closed);
- any other credit: to the active customer account holding the creditor IBAN in the entry's
  currency, an INCOMING_TRANSFER from clearing, posted (money arriving needs no approval), named
  after the debtor: CREDITED. Otherwise an INCOMING_TRANSFER from clearing to the suspense account
  and a SuspenseItem saying why (unknown_account, account_closed, account_frozen,
  currency_mismatch): SUSPENSE;
- a debit: one of our transfers (sent or returned) of that amount and currency: BOOKED, linked to
  it; else UNMATCHED with a note. Nothing moves (the money left the clearing account when the
  customer paid).

An entry in a currency Flux does not hold stays UNMATCHED (nothing moves). One entry's outcome never
stops the others.

Imports are serialised: each takes a PostgreSQL advisory lock for the length of its transaction,
so a second upload of the same file, at the same moment, waits and then finds every key applied;
the partial unique constraint on StatementEntry.key is the last guard. Every account is locked
once (ascending), every posting staged (banking.ledger.Postings) and written at once: a statement
of 10,000 credits is a few statements, not 10,000 movements (benchmarks/statement_import.py).
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit import actions
from audit.services import AuditRecord, audit_record, audit_record_many
from banking.clearing.camt053 import CamtEntry, CamtStatement, parse_camt053
from banking.clearing.models import APPLIED_OUTCOMES
from banking.iban import normalize_iban
from banking.ledger import Postings, internal_account, transaction_audit_data
from banking.locks import lock_accounts
from banking.models import (
    Account,
    AccountKind,
    AccountStatus,
    Statement,
    StatementEntry,
    StatementEntryOutcome,
    SuspenseItem,
    SuspenseReason,
    Transaction,
    TransactionKind,
    TransactionStatus,
)
from banking.services.movements import legs_for
from core.db.insert import insert_all
from core.errors import ValidationFailed
from identity.models import User
from identity.permissions import require_supervisor

# The advisory lock every import takes (one number for "statement imports"; pg_advisory_xact_lock).
IMPORT_LOCK = zlib.crc32(b"flux.clearing.statement_import")
Outcome = StatementEntryOutcome


@dataclass
class _Placed:
    """What one entry became, before anything is written."""

    entry: CamtEntry
    key: str
    outcome: str
    note: str = ""
    txn: Transaction | None = None
    suspense_reason: str = ""
    returned: Transaction | None = None  # the transfer a RETURN credits back


def _key_of(parsed: CamtStatement, entry: CamtEntry, position: int) -> str:
    # Without AcctSvcrRef or EndToEndId an entry is told apart by its statement (its MsgId is the
    # bank's, unique) and its place in it: the same file again is the same keys.
    return entry.key or f"pos:{parsed.message_id}/{position}"


def _as_id(end_to_end_id: str) -> int | None:
    return int(end_to_end_id) if end_to_end_id.isascii() and end_to_end_id.isdigit() and len(end_to_end_id) < 19 \
        else None


def _serialise() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [IMPORT_LOCK])
    # SQLite: transactions are IMMEDIATE (one writer at a time) already.


def statement_import(*, initiator: User, content: bytes, at: datetime | None = None) -> Statement:
    """Import one camt.053 statement (bytes as uploaded) and apply each of its booked entries once.

    Supervisors only. The file must be a camt.053.001.02 or .08 statement of FLUX_CLEARING_IBAN.
    Returns the Statement (its counts say what became of the entries; `statement_entries` each
    one). Records clearing.statement_imported, plus each posted transaction's own event
    (transaction.posted) and transaction.returned on each transfer that came back.

    Errors: permission_denied; validation_error (not a camt.053 of those versions, a mandatory part
    missing, another account's statement), raised before anything changes.
    """
    require_supervisor(initiator, _("Only supervisors may import statements."))
    parsed = parse_camt053(content)
    if normalize_iban(parsed.account_iban) != normalize_iban(settings.FLUX_CLEARING_IBAN):
        message = _("This is the statement of %(iban)s, not of Flux's clearing account %(ours)s.") % {
            "iban": parsed.account_iban, "ours": settings.FLUX_CLEARING_IBAN}
        raise ValidationFailed({"file": [message]}, message)
    now = at or timezone.now()
    with transaction.atomic():
        _serialise()
        return _apply(parsed, content=content, initiator=initiator, now=now)


def _apply(parsed: CamtStatement, *, content: bytes, initiator: User, now: datetime) -> Statement:
    entries = parsed.entries
    keys = [_key_of(parsed, entry, position) for position, entry in enumerate(entries, start=1)]
    applied = set(
        StatementEntry.objects.filter(key__in=set(keys), outcome__in=APPLIED_OUTCOMES).values_list("key", flat=True)
    )
    currencies = {entry.currency for entry in entries if entry.currency in settings.FLUX_CURRENCIES}
    clearing = {currency: internal_account(AccountKind.CLEARING, currency) for currency in currencies}
    suspense = {currency: internal_account(AccountKind.SUSPENSE, currency) for currency in currencies}
    creditor_ibans = {entry.creditor_iban for entry in entries if entry.is_credit and not entry.is_return}
    by_iban = {account.iban: account for account in Account.objects.filter(iban__in=creditor_ibans)} \
        if creditor_ibans else {}
    ours = _our_transfers(entries)
    # Transfers that may come back are locked before any account, as the approvals lock a
    # transaction before its accounts.
    returnable = {
        txn.pk: txn for txn in Transaction.objects.select_for_update().filter(
            pk__in=[pk for pk, txn in ours.items() if txn.status == TransactionStatus.SENT]).order_by("pk")
    }
    accounts = lock_accounts(
        [a.pk for a in clearing.values()] + [a.pk for a in suspense.values()]
        + [a.pk for a in by_iban.values()] + [txn.source_id for txn in returnable.values()]
    )
    postings = Postings()
    placed: list[_Placed] = []
    seen: set[str] = set()
    for entry, key in zip(entries, keys, strict=True):
        if key in applied or key in seen:
            placed.append(_Placed(entry, key, Outcome.DUPLICATE, _("Already applied.")))
            continue
        seen.add(key)
        if entry.currency not in currencies:
            placed.append(_Placed(entry, key, Outcome.UNMATCHED,
                                  _("Flux holds no %(currency)s.") % {"currency": entry.currency}))
        elif not entry.is_credit:
            placed.append(_booked(entry, key, ours))
        else:
            placed.append(_credit(
                entry, key, initiator=initiator, now=now, postings=postings, accounts=accounts,
                clearing=accounts[clearing[entry.currency].pk], suspense=accounts[suspense[entry.currency].pk],
                by_iban=by_iban, returnable=returnable,
            ))
    statement = Statement.objects.create(
        uploaded_at=now, uploaded_by=initiator, version=parsed.version, message_id=parsed.message_id,
        statement_id=parsed.statement_id, account_iban=parsed.account_iban, currency=parsed.currency,
        opening_balance=parsed.opening_balance, closing_balance=parsed.closing_balance,
        closing_date=parsed.closing_date, file=bytes(content), entries=len(placed),
        **{field: sum(1 for p in placed if p.outcome == outcome) for field, outcome in (
            ("credited", Outcome.CREDITED), ("returned", Outcome.RETURNED), ("suspense", Outcome.SUSPENSE),
            ("duplicates", Outcome.DUPLICATE), ("booked", Outcome.BOOKED), ("unmatched", Outcome.UNMATCHED))},
    )
    postings.flush()  # the transactions, their entries, balances and transaction.posted events
    rows = [_entry_row(statement, position, p) for position, p in enumerate(placed, start=1)]
    insert_all(rows)
    insert_all([
        SuspenseItem(entry=row, amount=row.amount, currency=row.currency, reason=p.suspense_reason,
                     placement=p.txn, created_at=now)
        for row, p in zip(rows, placed, strict=True) if p.outcome == Outcome.SUSPENSE
    ])
    _mark_returned([p for p in placed if p.returned is not None], initiator=initiator)
    audit_record(
        actor=initiator, action=actions.CLEARING_STATEMENT_IMPORTED, target_type="statement", target_id=statement.pk,
        data={"statement": statement.pk, "message_id": statement.message_id, "statement_id": statement.statement_id,
              "version": statement.version, "entries": statement.entries, "credited": statement.credited,
              "returned": statement.returned, "suspense": statement.suspense, "duplicates": statement.duplicates,
              "booked": statement.booked, "unmatched": statement.unmatched},
    )
    return statement


def _our_transfers(entries: list[CamtEntry]) -> dict[int, Transaction]:
    """Our transfers to another bank that entries name by EndToEndId (one query)."""
    ids = {pk for entry in entries if (pk := _as_id(entry.end_to_end_id)) is not None}
    if not ids:
        return {}
    return Transaction.objects.filter(
        pk__in=ids, kind=TransactionKind.EXTERNAL_TRANSFER,
        status__in=[TransactionStatus.SENT, TransactionStatus.RETURNED],
    ).in_bulk()


def _booked(entry: CamtEntry, key: str, ours: dict[int, Transaction]) -> _Placed:
    txn = ours.get(_as_id(entry.end_to_end_id) or 0)
    if txn is not None and txn.amount == -entry.amount and txn.currency == entry.currency:
        return _Placed(entry, key, Outcome.BOOKED, txn=txn)
    return _Placed(entry, key, Outcome.UNMATCHED, _("No transfer Flux sent matches this debit."))


def _credit(entry: CamtEntry, key: str, *, initiator: User, now: datetime, postings: Postings,
            accounts: dict[int, Account], clearing: Account, suspense: Account, by_iban: dict[str, Account],
            returnable: dict[int, Transaction]) -> _Placed:
    if entry.is_return:
        return _return(entry, key, initiator=initiator, now=now, postings=postings, accounts=accounts,
                       clearing=clearing, suspense=suspense, returnable=returnable)
    account = by_iban.get(entry.creditor_iban)
    account = accounts.get(account.pk) if account is not None else None
    reason, note = _unplaceable(account, entry)
    if reason:
        return _to_suspense(entry, key, reason, note, initiator=initiator, now=now, postings=postings,
                            accounts=accounts, clearing=clearing, suspense=suspense)
    txn = _incoming(entry, source=clearing, destination=account, initiator=initiator, now=now)
    postings.add(txn, legs_for(txn, accounts), at=now, actor=initiator, action=actions.TRANSACTION_POSTED)
    return _Placed(entry, key, Outcome.CREDITED, txn=txn)


def _unplaceable(account: Account | None, entry: CamtEntry) -> tuple[str, str]:
    if account is None or account.is_internal:
        return SuspenseReason.UNKNOWN_ACCOUNT, _("No Flux account has the IBAN %(iban)s.") % {
            "iban": entry.creditor_iban or "-"}
    if account.status == AccountStatus.CLOSED:
        return SuspenseReason.ACCOUNT_CLOSED, _("The account %(iban)s is closed.") % {"iban": account.iban}
    if account.status == AccountStatus.FROZEN:
        return SuspenseReason.ACCOUNT_FROZEN, _("The account %(iban)s is frozen.") % {"iban": account.iban}
    if account.currency != entry.currency:
        return SuspenseReason.CURRENCY_MISMATCH, _("The account %(iban)s is in %(currency)s.") % {
            "iban": account.iban, "currency": account.currency}
    return "", ""


def _incoming(entry: CamtEntry, *, source: Account, destination: Account, initiator: User,
              now: datetime) -> Transaction:
    return Transaction(
        kind=TransactionKind.INCOMING_TRANSFER, status=TransactionStatus.POSTED, amount=entry.amount,
        currency=entry.currency, source=source, destination=destination, external_iban=entry.debtor_iban,
        payer_name=entry.debtor_name, reference=entry.remittance[:140], initiated_by=initiator,
        created_at=now, posted_at=now,
    )


def _to_suspense(entry: CamtEntry, key: str, reason: str, note: str, *, initiator: User, now: datetime,
                 postings: Postings, accounts: dict[int, Account], clearing: Account, suspense: Account) -> _Placed:
    txn = _incoming(entry, source=clearing, destination=suspense, initiator=initiator, now=now)
    postings.add(txn, legs_for(txn, accounts), at=now, actor=initiator, action=actions.TRANSACTION_POSTED)
    return _Placed(entry, key, Outcome.SUSPENSE, note[:200], txn=txn, suspense_reason=reason)


def _return(entry: CamtEntry, key: str, *, initiator: User, now: datetime, postings: Postings,
            accounts: dict[int, Account], clearing: Account, suspense: Account,
            returnable: dict[int, Transaction]) -> _Placed:
    original = returnable.get(_as_id(entry.end_to_end_id) or 0)
    if original is None or original.status != TransactionStatus.SENT or original.amount != entry.amount \
            or original.currency != entry.currency:
        return _to_suspense(entry, key, SuspenseReason.UNKNOWN_RETURN,
                            _("A return of no transfer Flux sent (end-to-end id %(id)s).")
                            % {"id": entry.end_to_end_id or "-"},
                            initiator=initiator, now=now, postings=postings, accounts=accounts,
                            clearing=clearing, suspense=suspense)
    account = accounts[original.source_id]
    if account.status != AccountStatus.ACTIVE:
        reason = SuspenseReason.ACCOUNT_CLOSED if account.status == AccountStatus.CLOSED \
            else SuspenseReason.ACCOUNT_FROZEN
        return _to_suspense(entry, key, reason,
                            _("The return of transfer #%(id)s cannot go back to %(iban)s: the account is %(status)s.")
                            % {"id": original.pk, "iban": account.iban, "status": account.get_status_display()},
                            initiator=initiator, now=now, postings=postings, accounts=accounts,
                            clearing=clearing, suspense=suspense)
    txn = Transaction(
        kind=TransactionKind.RETURN, status=TransactionStatus.POSTED, amount=entry.amount, currency=entry.currency,
        source=clearing, destination=account, external_iban=original.external_iban,
        payer_name=(original.beneficiary_name or entry.debtor_name)[:140], reference=original.reference,
        return_of=original, initiated_by=initiator, created_at=now, posted_at=now,
    )
    postings.add(txn, legs_for(txn, accounts), at=now, actor=initiator, action=actions.TRANSACTION_POSTED)
    original.status = TransactionStatus.RETURNED  # in memory: a second return of it in this file is unknown
    return _Placed(entry, key, Outcome.RETURNED, txn=txn, returned=original)


def _entry_row(statement: Statement, position: int, placed: _Placed) -> StatementEntry:
    entry = placed.entry
    return StatementEntry(
        statement=statement, position=position, key=placed.key[:80], amount=entry.amount, currency=entry.currency,
        booking_date=entry.booking_date, value_date=entry.value_date, acct_svcr_ref=entry.acct_svcr_ref,
        end_to_end_id=entry.end_to_end_id, debtor_name=entry.debtor_name, debtor_iban=entry.debtor_iban,
        creditor_name=entry.creditor_name, creditor_iban=entry.creditor_iban, remittance=entry.remittance,
        return_reason=entry.return_reason, outcome=placed.outcome, note=placed.note[:200],
        transaction=placed.txn,
    )


def _mark_returned(returns: list[_Placed], *, initiator: User) -> None:
    """The transfers that came back become `returned`, each audited transaction.returned (its
    payer is told: notifications.events)."""
    if not returns:
        return
    Transaction.objects.filter(pk__in=[p.returned.pk for p in returns]).update(status=TransactionStatus.RETURNED)
    audit_record_many([
        AuditRecord(
            actor=initiator, action=actions.TRANSACTION_RETURNED, target_type="transaction",
            target_id=p.returned.pk,
            data=transaction_audit_data(p.returned) | {"return": p.txn.pk, "reason": p.entry.return_reason},
        )
        for p in returns
    ])
