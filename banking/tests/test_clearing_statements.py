"""statement_import: each booked entry of a camt.053 statement applied once, in both versions; what
cannot be placed waits in suspense; a file that is not a statement of Flux's clearing account
changes nothing."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.db import connection

from audit import actions
from audit.models import AuditEvent
from banking.clearing.samples import V02, V08, VERSIONS, SampleEntry, SampleTx, camt053_xml, credit, debit
from banking.clearing.statements import statement_import
from banking.ledger import internal_account
from banking.models import (
    AccountKind,
    AccountStatus,
    Statement,
    StatementEntry,
    SuspenseItem,
    Transaction,
    TransactionKind,
    TransactionStatus,
)
from banking.selectors import counterparty_name_of, entry_list_for_account
from banking.services import account_freeze
from banking.tests.clearing import (
    JEAN_IBAN,
    UNKNOWN_FLUX_IBAN,
    clearing_snapshot,
    events_since,
    last_event_id,
    sent_transfer,
)
from banking.tests.factories import fresh
from banking.tests.ledger import assert_ledger_consistent
from core.testing.assertions import refused
from core.testing.threads import run_threads

pytestmark = pytest.mark.django_db


def without_request_id(event: AuditEvent) -> dict:
    return {key: value for key, value in event.data.items() if key != "request_id"}


@pytest.fixture
def world(open_account, alice, bob, carol, agnes, alice_account, bob_account, clearing):
    """Alice and Bob with EUR accounts, Carol's frozen one, Bob's USD one, and two of Alice's
    transfers to another bank already sent (one will come back, one will be booked)."""
    frozen = open_account(carol, balance=20_00)
    account_freeze(actor=agnes, account_id=frozen.pk, reason="Fraud inquiry")
    dollars = open_account(bob, currency="USD")
    to_return = sent_transfer(alice, alice_account, 100_00, reference="Invoice 7")
    to_book = sent_transfer(alice, alice_account, 50_00, reference="Invoice 8")
    return {"frozen": fresh(frozen), "dollars": dollars, "to_return": to_return, "to_book": to_book,
            "alice": fresh(alice_account), "bob": fresh(bob_account), "clearing": fresh(clearing)}


def full_statement(world, version: str) -> bytes:
    return camt053_xml([
        credit("25.00", debtor_name="Jean Dupont", debtor_iban=JEAN_IBAN, creditor_iban=world["alice"].iban,
               remittance="Rent March", acct_svcr_ref="BANK-1"),
        SampleEntry(batch=[
            SampleTx("10.00", debtor_name="Marie Curie", debtor_iban=JEAN_IBAN, creditor_iban=world["bob"].iban),
            SampleTx("5.00", debtor_name="Paul Martin", debtor_iban=JEAN_IBAN, creditor_iban=world["alice"].iban),
        ]),
        credit("7.00", debtor_name="Nobody Known", creditor_iban=UNKNOWN_FLUX_IBAN),
        credit("8.00", debtor_name="Ann Frost", creditor_iban=world["frozen"].iban),
        credit("9.00", debtor_name="Sam Dollar", creditor_iban=world["dollars"].iban),
        credit("100.00", debtor_name="Hans Meier", end_to_end_id=str(world["to_return"].pk), return_reason="AC04"),
        debit("50.00", end_to_end_id=str(world["to_book"].pk)),
        debit("3.00", end_to_end_id="FEES-NOV"),
        credit("4.00", end_to_end_id="999999", return_reason="AC01"),
    ], version=version)


@pytest.mark.parametrize("version", VERSIONS)
def test_each_entry_gets_its_outcome_and_the_money_moves_once(world, sam, version):
    start = last_event_id()
    alice, bob, clearing = world["alice"], world["bob"], world["clearing"]
    balances = {account.pk: account.balance for account in (alice, bob, clearing)}

    statement = statement_import(initiator=sam, content=full_statement(world, version))

    assert statement.version == version
    assert (statement.entries, statement.credited, statement.returned, statement.suspense, statement.duplicates,
            statement.booked, statement.unmatched) == (10, 3, 1, 4, 0, 1, 1)
    rows = list(statement.statement_entries.order_by("position"))
    assert [row.outcome for row in rows] == [
        "credited", "credited", "credited", "suspense", "suspense", "suspense", "returned", "booked", "unmatched",
        "suspense"]
    assert rows[0].key == "acct:BANK-1" and rows[0].debtor_name == "Jean Dupont" and rows[0].amount == 25_00
    assert rows[7].transaction_id == world["to_book"].pk and rows[7].amount == -50_00
    assert "No transfer Flux sent" in rows[8].note
    # Balances: Alice 25 + 5 + the 100 that came back; Bob 10; the frozen and USD accounts nothing.
    assert fresh(alice).balance == balances[alice.pk] + 130_00
    assert fresh(bob).balance == balances[bob.pk] + 10_00
    assert fresh(world["frozen"]).balance == 20_00
    assert fresh(world["dollars"]).balance == 0
    suspense = internal_account(AccountKind.SUSPENSE, "EUR")
    assert suspense.balance == 7_00 + 8_00 + 9_00 + 4_00
    assert fresh(clearing).balance == balances[clearing.pk] - (25_00 + 10_00 + 5_00 + 28_00 + 100_00)
    assert_ledger_consistent()
    # The credit, named after the payer, posted at once.
    incoming = rows[0].transaction
    assert (incoming.kind, incoming.status, incoming.source_id, incoming.destination_id) == (
        TransactionKind.INCOMING_TRANSFER, TransactionStatus.POSTED, clearing.pk, alice.pk)
    assert (incoming.payer_name, incoming.external_iban, incoming.reference) == ("Jean Dupont", JEAN_IBAN, "Rent March")
    # The return: back to the account it left, the original returned.
    back = rows[6].transaction
    assert (back.kind, back.return_of_id, back.destination_id, back.reference, back.amount) == (
        TransactionKind.RETURN, world["to_return"].pk, alice.pk, "Invoice 7", 100_00)
    assert Transaction.objects.get(pk=world["to_return"].pk).status == TransactionStatus.RETURNED
    assert Transaction.objects.get(pk=world["to_book"].pk).status == TransactionStatus.SENT
    # Suspense items, each with its reason, on the suspense account.
    assert [(item.reason, item.amount, item.placement.destination_id) for item in SuspenseItem.objects.all()] == [
        ("unknown_account", 7_00, suspense.pk), ("account_frozen", 8_00, suspense.pk),
        ("currency_mismatch", 9_00, suspense.pk), ("unknown_return", 4_00, suspense.pk)]
    assert "frozen" in rows[4].note
    # Audit: one transaction.posted per movement, transaction.returned on the original, the import.
    events = events_since(start)
    posted = [event for event in events if event.action == actions.TRANSACTION_POSTED]
    assert sorted(int(event.target_id) for event in posted) == sorted(
        row.transaction_id for row in rows if row.outcome in ("credited", "suspense", "returned"))
    [returned] = [event for event in events if event.action == actions.TRANSACTION_RETURNED]
    assert returned.target_id == str(world["to_return"].pk)
    assert returned.data["status"] == "returned" and returned.data["return"] == back.pk
    assert returned.data["reason"] == "AC04"
    [imported] = [event for event in events if event.action == actions.CLEARING_STATEMENT_IMPORTED]
    assert without_request_id(imported) == {
        "statement": statement.pk, "message_id": statement.message_id, "statement_id": statement.statement_id,
        "version": version, "entries": 10, "credited": 3, "returned": 1, "suspense": 4, "duplicates": 0,
        "booked": 1, "unmatched": 1}
    assert imported.actor_id == sam.pk
    assert len(events) == 8 + 1 + 1


@pytest.mark.parametrize("version", VERSIONS)
def test_the_same_file_again_is_all_duplicates_and_moves_nothing(world, sam, version):
    content = full_statement(world, version)
    statement_import(initiator=sam, content=content)
    before = clearing_snapshot()
    start = last_event_id()

    again = statement_import(initiator=sam, content=content)

    assert (again.entries, again.duplicates, again.credited, again.returned, again.suspense) == (10, 10, 0, 0, 0)
    assert set(again.statement_entries.values_list("outcome", flat=True)) == {"duplicate"}
    after = clearing_snapshot()
    for part in ("accounts", "entries", "transactions", "transaction_statuses", "suspense_items"):
        assert after[part] == before[part], part
    assert [event.action for event in events_since(start)] == [actions.CLEARING_STATEMENT_IMPORTED]


def test_an_entry_applied_by_another_statement_or_twice_in_one_file_is_a_duplicate(world, sam):
    entry = credit("12.00", debtor_name="Jean Dupont", creditor_iban=world["alice"].iban, acct_svcr_ref="X-1")
    statement_import(initiator=sam, content=camt053_xml([entry], version=V02))
    before = fresh(world["alice"]).balance

    # Another statement (another message id) that books it again, twice, and one new entry.
    no_bank_ref = SampleEntry(tx=SampleTx("1.00", creditor_iban=world["alice"].iban, end_to_end_id="E-2"),
                              acct_svcr_ref="")
    other = camt053_xml([entry, entry, no_bank_ref], version=V08)
    statement = statement_import(initiator=sam, content=other)

    assert [row.outcome for row in statement.statement_entries.order_by("position")] == [
        "duplicate", "duplicate", "credited"]
    assert statement.statement_entries.get(position=3).key == "e2e:E-2"
    assert fresh(world["alice"]).balance == before + 1_00


def test_a_return_to_a_frozen_account_waits_in_suspense_and_the_transfer_stays_sent(world, sam, agnes, alice):
    account_freeze(actor=agnes, account_id=world["alice"].pk, reason="Court order")
    original, before = world["to_return"], world["alice"].balance

    statement = statement_import(initiator=sam, content=camt053_xml(
        [credit("100.00", end_to_end_id=str(original.pk), return_reason="AC04")]))

    assert statement.suspense == 1 and statement.returned == 0
    assert SuspenseItem.objects.get().reason == "account_frozen"
    assert Transaction.objects.get(pk=original.pk).status == TransactionStatus.SENT
    assert fresh(world["alice"]).balance == before


def test_a_return_of_another_amount_is_not_our_transfers(world, sam):
    statement = statement_import(initiator=sam, content=camt053_xml(
        [credit("99.00", end_to_end_id=str(world["to_return"].pk), return_reason="AC04")]))
    assert statement.suspense == 1 and SuspenseItem.objects.get().reason == "unknown_return"
    assert Transaction.objects.get(pk=world["to_return"].pk).status == TransactionStatus.SENT


def test_a_return_by_bank_transaction_code_alone_is_a_return(world, sam):
    entry = SampleEntry(tx=SampleTx("100.00", end_to_end_id=str(world["to_return"].pk)), return_code=True)
    statement = statement_import(initiator=sam, content=camt053_xml([entry], version=V02))
    assert statement.returned == 1
    assert Transaction.objects.get(pk=world["to_return"].pk).status == TransactionStatus.RETURNED


def test_entries_not_booked_are_skipped(world, sam):
    statement = statement_import(initiator=sam, content=camt053_xml([
        SampleEntry(tx=SampleTx("3.00", creditor_iban=world["alice"].iban), status="PDNG"),
        credit("2.00", creditor_iban=world["alice"].iban)]))
    assert statement.entries == 1 and statement.credited == 1


def test_the_payer_is_named_in_the_customers_history(world, sam):
    statement_import(initiator=sam, content=full_statement(world, V08))
    names = {entry.transaction.kind: counterparty_name_of(entry)
             for entry in entry_list_for_account(account=world["alice"]) if entry.amount > 0}
    assert names[TransactionKind.INCOMING_TRANSFER] in {"Jean Dupont", "Paul Martin"}
    assert names[TransactionKind.RETURN] == "Hans Meier"
    credited = {counterparty_name_of(entry) for entry in entry_list_for_account(account=world["alice"])
                if entry.transaction.kind == TransactionKind.INCOMING_TRANSFER}
    assert credited == {"Jean Dupont", "Paul Martin"}


BAD_FILES = {
    "not xml": b"this is not XML at all",
    "truncated": b"<?xml version='1.0'?><Document xmlns='urn:iso:std:iso:20022:tech:xsd:camt.053.001.08'><BkTo",
    "pain.001": (b"<?xml version='1.0'?><Document xmlns='urn:iso:std:iso:20022:tech:xsd:pain.001.001.09'>"
                 b"<CstmrCdtTrfInitn><GrpHdr><MsgId>X</MsgId></GrpHdr></CstmrCdtTrfInitn></Document>"),
    "camt.053.001.04": (b"<?xml version='1.0'?><Document xmlns='urn:iso:std:iso:20022:tech:xsd:camt.053.001.04'>"
                        b"<BkToCstmrStmt/></Document>"),
    "other xml": b"<?xml version='1.0'?><html><body>hello</body></html>",
    "entity": (b"<?xml version='1.0'?><!DOCTYPE d [<!ENTITY x 'y'>]>"
               b"<Document xmlns='urn:iso:std:iso:20022:tech:xsd:camt.053.001.02'>&x;</Document>"),
    "empty": b"",
}


@pytest.mark.parametrize("name", list(BAD_FILES) + ["no closing balance", "bad amount", "another account"])
def test_a_file_that_is_not_a_statement_of_ours_changes_nothing(world, sam, name):
    good = camt053_xml([credit("25.00", creditor_iban=world["alice"].iban)], version=V02)
    content = BAD_FILES[name] if name in BAD_FILES else {
        "no closing balance": good.replace(b"<Cd>CLBD</Cd>", b"<Cd>ITBD</Cd>"),
        "bad amount": good.replace(b">25.00<", b">25.001<"),
        "another account": camt053_xml([credit("25.00", creditor_iban=world["alice"].iban)],
                                       account_iban="DE89370400440532013000"),
    }[name]
    assert content != good
    before = clearing_snapshot()

    with refused("validation_error") as error:
        statement_import(initiator=sam, content=content)

    assert error.value.fields["file"]
    assert clearing_snapshot() == before


def test_only_a_supervisor_imports(world, agnes, alice):
    content = camt053_xml([credit("25.00", creditor_iban=world["alice"].iban)])
    before = clearing_snapshot()
    for user in (agnes, alice):
        with refused("permission_denied"):
            statement_import(initiator=user, content=content)
    assert clearing_snapshot() == before


def test_the_statement_keeps_its_file_and_balances(world, sam):
    content = camt053_xml([credit("25.00", creditor_iban=world["alice"].iban)], opening=1_000_00, version=V02)
    statement = Statement.objects.get(pk=statement_import(initiator=sam, content=content).pk)
    assert bytes(statement.file) == content
    assert (statement.opening_balance, statement.closing_balance) == (1_000_00, 1_025_00)
    assert statement.account_iban == settings.FLUX_CLEARING_IBAN and statement.currency == "EUR"


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks and advisory locks: PostgreSQL")
def test_two_uploads_of_one_file_at_once_apply_each_entry_once(open_account, alice, sam, vault, clearing):
    accounts = [open_account(alice) for _ in range(3)]
    content = camt053_xml([credit("1.00", creditor_iban=account.iban, debtor_name=f"Payer {n}")
                           for n in range(30) for account in accounts], version=V08)
    def upload(_index, barrier):
        barrier.wait(timeout=30)
        return statement_import(initiator=sam, content=content)

    run_threads(2, upload)
    counts = sorted(Statement.objects.values_list("credited", "duplicates"))
    assert counts == [(0, 90), (90, 0)]
    assert [fresh(account).balance for account in accounts] == [30_00] * 3
    assert StatementEntry.objects.filter(outcome="credited").count() == 90
    assert Transaction.objects.filter(kind=TransactionKind.INCOMING_TRANSFER).count() == 90
    assert_ledger_consistent()
    assert AccountStatus.ACTIVE == fresh(accounts[0]).status
