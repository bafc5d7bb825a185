"""Helpers of the clearing tests (statements in): transfers to another bank made `sent` as a
clearing run leaves them, the ledger's money and records counted, and what a statement import
touched. Plain functions, usable by the tests of higher apps (notifications, workspace) too."""

from __future__ import annotations

from django.utils import timezone

from audit.models import AuditEvent
from banking.models import Account, Statement, StatementEntry, SuspenseItem, Transaction, TransactionStatus
from banking.services import transfer_create
from banking.tests.ledger import ledger_snapshot

JEAN_IBAN = "FR7630006000011234567890189"  # Jean Dupont, at a French bank
PAYEE_IBAN = "DE89370400440532013000"  # a payee at a German bank
UNKNOWN_FLUX_IBAN = "NL91FLUX0000000000"  # a Flux IBAN no account holds (valid check digits)


def sent_transfer(customer, account: Account, amount: int, *, iban: str = PAYEE_IBAN, reference: str = "Invoice 7",
                  beneficiary_name: str = "Hans Meier") -> Transaction:
    """A transfer to another bank, as a clearing run leaves it: posted, then `sent`."""
    txn = transfer_create(initiator=customer, source_account_id=account.pk, destination_iban=iban, amount=amount,
                          reference=reference, beneficiary_name=beneficiary_name)
    assert txn.status == TransactionStatus.POSTED
    Transaction.objects.filter(pk=txn.pk).update(status=TransactionStatus.SENT, sent_at=timezone.now())
    txn.refresh_from_db()
    return txn


def clearing_snapshot() -> dict:
    """The ledger (banking.tests.ledger) and every record a statement import writes."""
    return ledger_snapshot() | {
        "statements": Statement.objects.count(),
        "statement_entries": StatementEntry.objects.count(),
        "suspense_items": SuspenseItem.objects.count(),
        "transaction_statuses": list(Transaction.objects.order_by("pk").values_list("pk", "status")),
    }


def events_since(event_id: int) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(pk__gt=event_id).order_by("pk"))


def last_event_id() -> int:
    return AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
