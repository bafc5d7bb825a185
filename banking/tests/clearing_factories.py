"""What a camt.053 statement import leaves behind, built directly for the suspense and reconciliation
tests: a Statement, its StatementEntry rows, and the transactions they posted, posted through the
ledger (banking.ledger.Postings on locked accounts), so every balance is still the sum of its
entries. The statement import itself (banking.clearing.statements) makes the same rows."""

from __future__ import annotations

import datetime as dt
import itertools

from django.db import transaction
from django.utils import timezone

from audit import actions
from banking.ledger import Postings, internal_account
from banking.locks import lock_accounts
from banking.models import (
    Account,
    AccountKind,
    ClearingRun,
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

PAYER_IBAN = "FR1420041010050500013M02606"  # a valid French IBAN (another bank)
FLUX_AT_CORRESPONDENT = "DE89370400440532013000"
_keys = itertools.count(1)


def make_statement(*, by, currency: str = "EUR", opening: int | None = None, closing: int | None = None,
                   closing_date: dt.date | None = None) -> Statement:
    number = next(_keys)
    return Statement.objects.create(
        uploaded_at=timezone.now(), uploaded_by=by, version="camt.053.001.08", message_id=f"MSG-{number}",
        statement_id=f"STMT-{number}", account_iban=FLUX_AT_CORRESPONDENT, currency=currency,
        opening_balance=opening, closing_balance=closing, closing_date=closing_date, file=b"<Document/>",
    )


def make_entry(statement: Statement, *, amount: int, outcome: str, booking_date: dt.date,
               transaction: Transaction | None = None, **fields) -> StatementEntry:
    number = next(_keys)
    return StatementEntry.objects.create(
        statement=statement, position=number, key=f"acct:REF{number}", amount=amount, currency=statement.currency,
        booking_date=booking_date, acct_svcr_ref=f"REF{number}", outcome=outcome, transaction=transaction, **fields,
    )


def post_incoming(*, by, destination: Account, amount: int, payer_name: str = "Jean Dupont",
                  payer_iban: str = PAYER_IBAN, reference: str = "Invoice 42",
                  kind: str = TransactionKind.INCOMING_TRANSFER, return_of: Transaction | None = None) -> Transaction:
    """Money in from the clearing account (of the destination's currency), posted and audited as the
    import posts it."""
    clearing = internal_account(AccountKind.CLEARING, destination.currency)
    with transaction.atomic():
        accounts = lock_accounts([clearing.pk, destination.pk])
        now = timezone.now()
        txn = Transaction(
            kind=kind, status=TransactionStatus.POSTED, amount=amount, currency=destination.currency,
            source=accounts[clearing.pk], destination=accounts[destination.pk], external_iban=payer_iban,
            payer_name=payer_name, reference=reference, initiated_by=by, created_at=now, posted_at=now,
            return_of=return_of,
        )
        postings = Postings()
        postings.add(txn, legs_for(txn, accounts), at=now, actor=by, action=actions.TRANSACTION_POSTED)
        postings.flush()
        return txn


def place_in_suspense(*, by, amount: int, currency: str = "EUR", debtor_name: str = "Jean Dupont",
                      debtor_iban: str = PAYER_IBAN, creditor_iban: str = "NL02FLUX0000000000",
                      remittance: str = "Invoice 42", reason: str = SuspenseReason.UNKNOWN_ACCOUNT,
                      booking_date: dt.date | None = None, statement: Statement | None = None) -> SuspenseItem:
    """A statement credit that could not be placed: clearing -> suspense, its entry (SUSPENSE) and
    its SuspenseItem."""
    statement = statement or make_statement(by=by, currency=currency)
    suspense = internal_account(AccountKind.SUSPENSE, currency)
    placement = post_incoming(by=by, destination=suspense, amount=amount, payer_name=debtor_name,
                              payer_iban=debtor_iban, reference=remittance)
    entry = make_entry(
        statement, amount=amount, outcome=StatementEntryOutcome.SUSPENSE,
        booking_date=booking_date or timezone.localdate(), transaction=placement, debtor_name=debtor_name,
        debtor_iban=debtor_iban, creditor_iban=creditor_iban, remittance=remittance, note="No Flux account",
    )
    return SuspenseItem.objects.create(entry=entry, amount=amount, currency=currency, reason=reason,
                                       placement=placement, created_at=timezone.now())


def mark_sent(transfers: list[Transaction], *, by, at: dt.datetime | None = None) -> ClearingRun:
    """What a clearing run does to its transfers (banking.clearing.runs): one run, each `sent`."""
    at = at or timezone.now()
    run = ClearingRun.objects.create(
        created_at=at, created_by=by, message_id=f"RUN-{next(_keys)}", schema="pain.001.001.09",
        currency=transfers[0].currency, count=len(transfers), total=sum(t.amount for t in transfers), file=b"<x/>",
    )
    Transaction.objects.filter(pk__in=[t.pk for t in transfers]).update(
        status=TransactionStatus.SENT, clearing_run=run, sent_at=at)
    return run
