"""Money with other banks through the real services, one after the other: a credit that cannot be
placed goes to suspense; a supervisor sends it back; the next clearing run puts the send-back in
its pain.001 file; the other bank returns it on the next statement, so the money is back on
suspense and the item is open again, ready to be assigned; every step moves the money once."""

from __future__ import annotations

import pytest
from lxml import etree

from banking.clearing.runs import clearing_run_create
from banking.clearing.samples import camt053_xml, credit
from banking.clearing.statements import statement_import
from banking.clearing.suspense import OPEN, RESOLVED, status_of, suspense_assign, suspense_send_back
from banking.ledger import internal_account
from banking.models import (
    AccountKind,
    StatementEntryOutcome,
    SuspenseItem,
    Transaction,
    TransactionKind,
    TransactionStatus,
)
from banking.tests.clearing import JEAN_IBAN, UNKNOWN_FLUX_IBAN
from banking.tests.ledger import assert_ledger_consistent

pytestmark = pytest.mark.django_db


def item_status(item: SuspenseItem) -> str:
    return status_of(SuspenseItem.objects.select_related("resolution").get(pk=item.pk))


def test_sent_back_returned_then_assigned_moves_the_money_once_each_time(sam, bob, bob_account, clearing):
    suspense = internal_account(AccountKind.SUSPENSE, "EUR")
    first = statement_import(initiator=sam, content=camt053_xml([
        credit("42.00", debtor_name="Jean Dupont", debtor_iban=JEAN_IBAN, creditor_iban=UNKNOWN_FLUX_IBAN,
               remittance="Invoice 12"),
    ]))
    item = SuspenseItem.objects.get(entry__statement=first)
    suspense.refresh_from_db()
    assert suspense.balance == 42_00 and item_status(item) == OPEN

    send_back = suspense_send_back(initiator=sam, item_id=item.pk)
    assert (send_back.kind, send_back.status, send_back.external_iban) == (
        TransactionKind.EXTERNAL_TRANSFER, TransactionStatus.POSTED, JEAN_IBAN)
    assert item_status(item) == RESOLVED

    run = clearing_run_create(initiator=sam)
    send_back.refresh_from_db()
    assert send_back.status == TransactionStatus.SENT and run.count == 1
    document = etree.fromstring(bytes(run.file))
    namespaces = {"p": "urn:iso:std:iso:20022:tech:xsd:pain.001.001.09"}
    assert document.findtext(".//p:PmtId/p:EndToEndId", namespaces=namespaces) == str(send_back.pk)
    assert document.findtext(".//p:CdtrAcct/p:Id/p:IBAN", namespaces=namespaces) == JEAN_IBAN
    assert document.findtext(".//p:Cdtr/p:Nm", namespaces=namespaces) == "Jean Dupont"

    # The other bank sends it back (AC04): the money returns to suspense, the item is open again.
    second = statement_import(initiator=sam, content=camt053_xml([
        credit("42.00", end_to_end_id=str(send_back.pk), return_reason="AC04", debtor_name="Jean Dupont",
               debtor_iban=JEAN_IBAN),
    ]))
    assert second.returned == 1
    send_back.refresh_from_db()
    assert send_back.status == TransactionStatus.RETURNED
    returned = Transaction.objects.get(kind=TransactionKind.RETURN, return_of=send_back)
    assert returned.destination_id == suspense.pk
    suspense.refresh_from_db()
    assert suspense.balance == 42_00 and item_status(item) == OPEN

    # Assigned to bob at last: suspense empty, bob credited once, named after the payer.
    before = bob_account.balance
    assigned = suspense_assign(initiator=sam, item_id=item.pk, account_id=bob_account.pk)
    bob_account.refresh_from_db()
    suspense.refresh_from_db()
    assert (bob_account.balance - before, suspense.balance) == (42_00, 0)
    assert assigned.payer_name == "Jean Dupont" and item_status(item) == RESOLVED
    # The same return uploaded again changes nothing.
    again = statement_import(initiator=sam, content=bytes(second.file))
    assert (again.duplicates, again.returned) == (1, 0)
    assert second.statement_entries.get().outcome == StatementEntryOutcome.RETURNED
    assert_ledger_consistent()
