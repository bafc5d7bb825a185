"""Clearing runs (banking/clearing/runs.py): the posted transfers to other banks leave in one
pain.001 file, valid against the XSD sepaxml ships (checked here with xmlschema, as the issue asks;
the service checks with lxml), each transfer in one file only, even with two runs at once."""

from __future__ import annotations

import io
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import xmlschema
from django.core.management import call_command
from django.db import connection
from lxml import etree

from audit import actions
from audit.models import AuditEvent
from banking.clearing.pain001 import schema_path, sepa_text
from banking.clearing.runs import clearing_run_create
from banking.jobs import clearing_at_cutoff
from banking.models import ClearingRun, Transaction, TransactionKind, TransactionStatus
from banking.services import (
    beneficiary_create,
    transaction_approve,
    transaction_reject,
    transaction_reverse,
    transfer_create,
)
from banking.tests.factories import fund
from core.errors import ApplicationError
from core.testing.threads import run_threads

NS = {"p": "urn:iso:std:iso:20022:tech:xsd:pain.001.001.09"}
DE_IBAN = "DE89370400440532013000"
FR_IBAN = "FR1420041010050500013M02606"
GB_IBAN = "GB82WEST12345698765432"
NL_IBAN = "NL91ABNA0417164300"
PARIS = ZoneInfo("Europe/Paris")


@pytest.fixture(scope="module")
def xsd():
    return xmlschema.XMLSchema(str(schema_path("pain.001.001.09")))


def external(customer, account, iban, amount, **extra) -> Transaction:
    return transfer_create(initiator=customer, source_account_id=account.pk, destination_iban=iban, amount=amount,
                           **extra)


def parsed(run: ClearingRun, xsd) -> etree._Element:
    document = bytes(run.file)
    xsd.validate(document.decode())  # raises on any error
    return etree.fromstring(document)


def payments_of(tree) -> dict[str, dict]:
    return {
        tx.findtext("p:PmtId/p:EndToEndId", namespaces=NS): {
            "amount": tx.findtext("p:Amt/p:InstdAmt", namespaces=NS),
            "currency": tx.find("p:Amt/p:InstdAmt", NS).get("Ccy"),
            "name": tx.findtext("p:Cdtr/p:Nm", namespaces=NS),
            "iban": tx.findtext("p:CdtrAcct/p:Id/p:IBAN", namespaces=NS),
            "remittance": tx.findtext("p:RmtInf/p:Ustrd", namespaces=NS),
            "has_remittance": tx.find("p:RmtInf", NS) is not None,
        }
        for tx in tree.iterfind(".//p:CdtTrfTxInf", NS)
    }


def test_a_run_sends_every_posted_transfer_to_another_bank_in_one_valid_file(
    xsd, sam, agnes, alice, bob, alice_account, bob_account, rich_account, open_account, settings
):
    settings.FLUX_BANK_NAME = "Flux Bank & Co"
    named = external(alice, alice_account, DE_IBAN, 12_34, reference="Invoice 42 / Zoë",
                     beneficiary_name="Zoë Ñúñez & Søn_#1")
    beneficiary_create(customer=bob, name="Émile Zola", iban=FR_IBAN)
    saved = external(bob, bob_account, FR_IBAN, 100_00, reference="Rent")
    bare = external(alice, alice_account, GB_IBAN, 5)  # no name, no reference
    # Not sent: within Flux, pending, rejected, reversed (pending or posted), another currency.
    internal = transfer_create(initiator=alice, source_account_id=alice_account.pk, destination_iban=bob_account.iban,
                               amount=1_00)
    pending = external(alice, rich_account, NL_IBAN, 12_000_00)
    rejected = external(alice, rich_account, NL_IBAN, 11_000_00)
    transaction_reject(approver=agnes, transaction_id=rejected.pk, reason="Suspicious")
    reversal_pending = external(bob, bob_account, DE_IBAN, 3_00)
    transaction_reverse(actor=agnes, transaction_id=reversal_pending.pk, reason="Duplicate")
    reversed_posted = external(bob, bob_account, DE_IBAN, 4_00)
    reversal = transaction_reverse(actor=agnes, transaction_id=reversed_posted.pk, reason="Duplicate")
    transaction_approve(approver=sam, transaction_id=reversal.pk)
    dollars = open_account(alice, currency="USD")
    fund(dollars, 500_00, agent=agnes, approver=sam)
    in_usd = external(alice, dollars, DE_IBAN, 7_00)
    events_before = AuditEvent.objects.count()
    at = datetime(2026, 11, 27, 15, 0, 5, tzinfo=PARIS)

    run = clearing_run_create(initiator=sam, at=at)

    assert (run.count, run.total, run.currency, run.created_by) == (3, 12_34 + 100_00 + 5, "EUR", sam)
    assert run.schema == "pain.001.001.09" and run.file_name == f"flux-pain001-{run.pk}.xml"
    tree = parsed(run, xsd)
    header = tree.find("p:CstmrCdtTrfInitn/p:GrpHdr", NS)
    assert header.findtext("p:MsgId", namespaces=NS) == run.message_id
    assert header.findtext("p:NbOfTxs", namespaces=NS) == "3"
    assert Decimal(header.findtext("p:CtrlSum", namespaces=NS)) == Decimal("112.39")
    assert header.findtext("p:CreDtTm", namespaces=NS) == "2026-11-27T15:00:05+01:00"
    info = tree.find("p:CstmrCdtTrfInitn/p:PmtInf", NS)
    assert info.findtext("p:Dbtr/p:Nm", namespaces=NS) == "Flux Bank + Co"
    assert info.findtext("p:DbtrAcct/p:Id/p:IBAN", namespaces=NS) == settings.FLUX_CLEARING_IBAN
    assert info.findtext("p:DbtrAgt/p:FinInstnId/p:BICFI", namespaces=NS) == "INGBNL2AXXX"
    assert info.findtext("p:PmtTpInf/p:SvcLvl/p:Cd", namespaces=NS) == "SEPA"
    assert info.findtext("p:ReqdExctnDt/p:Dt", namespaces=NS) == "2026-11-27"
    payments = payments_of(tree)
    # The end-to-end id is the transaction id, exactly; oldest first.
    assert [tx.findtext("p:PmtId/p:EndToEndId", namespaces=NS) for tx in tree.iterfind(".//p:CdtTrfTxInf", NS)] == [
        str(named.pk), str(saved.pk), str(bare.pk)]
    assert payments[str(named.pk)] == {"amount": "12.34", "currency": "EUR", "name": "Zoe Nunez + Son 1",
                                       "iban": DE_IBAN, "remittance": "Invoice 42 / Zoe", "has_remittance": True}
    assert payments[str(saved.pk)] | {} == {"amount": "100.00", "currency": "EUR", "name": "Emile Zola",
                                            "iban": FR_IBAN, "remittance": "Rent", "has_remittance": True}
    assert payments[str(bare.pk)] == {"amount": "0.05", "currency": "EUR", "name": GB_IBAN, "iban": GB_IBAN,
                                      "remittance": None, "has_remittance": False}

    for txn in (named, saved, bare):
        txn.refresh_from_db()
        assert (txn.status, txn.sent_at, txn.clearing_run_id) == (TransactionStatus.SENT, at, run.pk)
    for txn, status in ((internal, "posted"), (pending, "pending"), (rejected, "rejected"),
                        (reversal_pending, "posted"), (reversed_posted, "posted"), (in_usd, "posted")):
        txn.refresh_from_db()
        assert (txn.status, txn.clearing_run_id, txn.sent_at) == (status, None, None), txn

    events = list(AuditEvent.objects.order_by("pk")[events_before:])
    assert [e.action for e in events] == [actions.CLEARING_RUN_CREATED] + [actions.TRANSACTION_SENT] * 3
    assert events[0].actor == sam and events[0].target_id == str(run.pk)
    assert {k: events[0].data[k] for k in ("count", "total", "currency", "message_id")} == {
        "count": 3, "total": "112.39", "currency": "EUR", "message_id": run.message_id}
    assert [e.target_id for e in events[1:]] == [str(named.pk), str(saved.pk), str(bare.pk)]

    # Sent is gone: it cannot be sent again, nor reversed.
    with pytest.raises(ApplicationError) as refusal:
        clearing_run_create(initiator=sam)
    assert refusal.value.code == "nothing_to_clear"
    with pytest.raises(ApplicationError) as refusal:
        transaction_reverse(actor=agnes, transaction_id=named.pk, reason="Too late")
    assert refusal.value.code == "not_posted"

    # The other currency goes in its own run, without the SEPA service level.
    usd_run = clearing_run_create(initiator=sam, currency="usd")
    usd_tree = parsed(usd_run, xsd)
    assert (usd_run.count, usd_run.currency) == (1, "USD")
    assert payments_of(usd_tree)[str(in_usd.pk)]["currency"] == "USD"
    assert usd_tree.find(".//p:PmtInf/p:PmtTpInf", NS) is None


def test_an_approved_transfer_is_sent_once_approved(xsd, sam, alice, rich_account):
    big = external(alice, rich_account, NL_IBAN, 12_000_00, reference="Car")
    with pytest.raises(ApplicationError):
        clearing_run_create(initiator=sam)
    transaction_approve(approver=sam, transaction_id=big.pk)
    run = clearing_run_create(initiator=sam)
    assert run.count == 1 and str(big.pk) in payments_of(parsed(run, xsd))


def test_nothing_to_clear_changes_nothing(unchanged, sam, alice, alice_account, bob_account):
    transfer_create(initiator=alice, source_account_id=alice_account.pk, destination_iban=bob_account.iban,
                    amount=1_00)
    with unchanged():
        with pytest.raises(ApplicationError) as refusal:
            clearing_run_create(initiator=sam)
    assert refusal.value.code == "nothing_to_clear" and refusal.value.status == 422
    assert not ClearingRun.objects.exists()


@pytest.mark.parametrize("who", ["agnes", "alice"])
def test_only_a_supervisor_runs_clearing(request, unchanged, who, alice, alice_account):
    external(alice, alice_account, DE_IBAN, 1_00)
    with unchanged():
        with pytest.raises(ApplicationError) as refusal:
            clearing_run_create(initiator=request.getfixturevalue(who))
    assert refusal.value.code == "permission_denied"
    assert not ClearingRun.objects.exists()


def test_an_unknown_currency_is_a_validation_error(sam):
    with pytest.raises(ApplicationError) as refusal:
        clearing_run_create(initiator=sam, currency="XYZ")
    assert refusal.value.code == "validation_error" and "currency" in refusal.value.fields


@pytest.mark.parametrize(
    ("text", "cleaned"),
    [("Zoë Ñúñez", "Zoe Nunez"), ("O'Brien & Søn", "O'Brien + Son"), ("a@b_c#d*e!", "a b c d e"),
     ("Straße", "Strasse"), ("😀", ""), ("  many   spaces ", "many spaces")],
)
def test_names_go_out_in_sepa_characters(text, cleaned):
    assert sepa_text(text, 70) == cleaned


def test_a_name_that_cleans_to_nothing_falls_back_to_the_iban(xsd, sam, alice, alice_account):
    txn = external(alice, alice_account, DE_IBAN, 1_00, beneficiary_name="😀😀")
    run = clearing_run_create(initiator=sam)
    assert payments_of(parsed(run, xsd))[str(txn.pk)]["name"] == DE_IBAN


# --- The scheduler and the command ---------------------------------------------------------------


def test_the_scheduler_runs_clearing_once_a_day_after_the_cutoff(settings, alice, alice_account):
    settings.FLUX_CLEARING_CUTOFF = "15:00"
    first = external(alice, alice_account, DE_IBAN, 1_00)
    assert clearing_at_cutoff(now=datetime(2026, 11, 27, 14, 59, tzinfo=PARIS)) == 0
    assert not ClearingRun.objects.exists()

    assert clearing_at_cutoff(now=datetime(2026, 11, 27, 15, 0, tzinfo=PARIS)) == 1
    run = ClearingRun.objects.get()
    assert run.created_by is None and run.transactions.get() == first

    later = external(alice, alice_account, DE_IBAN, 2_00)
    assert clearing_at_cutoff(now=datetime(2026, 11, 27, 15, 1, tzinfo=PARIS)) == 0  # once a day
    assert clearing_at_cutoff(now=datetime(2026, 11, 27, 23, 59, tzinfo=PARIS)) == 0
    assert clearing_at_cutoff(now=datetime(2026, 11, 28, 9, 0, tzinfo=PARIS)) == 0  # before the next cut-off
    later.refresh_from_db()
    assert later.status == TransactionStatus.POSTED

    assert clearing_at_cutoff(now=datetime(2026, 11, 28, 15, 0, 30, tzinfo=PARIS)) == 1
    later.refresh_from_db()
    assert later.status == TransactionStatus.SENT and ClearingRun.objects.count() == 2


def test_the_scheduler_waits_for_something_to_send(settings, alice, alice_account):
    settings.FLUX_CLEARING_CUTOFF = "15:00"
    assert clearing_at_cutoff(now=datetime(2026, 11, 27, 15, 0, tzinfo=PARIS)) == 0
    assert not ClearingRun.objects.exists()
    external(alice, alice_account, DE_IBAN, 1_00)
    assert clearing_at_cutoff(now=datetime(2026, 11, 27, 15, 1, tzinfo=PARIS)) == 1


def test_the_command_sends_what_waits_or_says_nothing_does(alice, alice_account):
    out = io.StringIO()
    call_command("clearing_run", stdout=out)
    assert out.getvalue().startswith("Nothing to send: No transfer to another bank in EUR")
    txn = external(alice, alice_account, DE_IBAN, 2_50)
    out = io.StringIO()
    call_command("clearing_run", "--currency", "EUR", stdout=out)
    run = ClearingRun.objects.get()
    assert out.getvalue().strip() == (
        f"Clearing run #{run.pk}: sent 1 transfer, 2.50 EUR, in {run.file_name} (message {run.message_id}).")
    txn.refresh_from_db()
    assert txn.status == TransactionStatus.SENT and run.created_by is None


# --- Concurrency (PostgreSQL, real threads) ------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_runs_never_share_a_transfer_and_together_send_all(xsd, sam, alice, bob, open_account, vault,
                                                                      clearing):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL row locks")
    accounts = [open_account(alice, balance=1_000_00), open_account(bob, balance=1_000_00)]
    transfers = []

    def run_when_all_are_ready(_index, barrier):
        barrier.wait(timeout=30)
        return clearing_run_create(initiator=sam)

    for _round in range(3):
        # Transfers keep arriving while the runs go.
        for i in range(40):
            owner, account = (alice, accounts[0]) if i % 2 else (bob, accounts[1])
            transfers.append(external(owner, account, DE_IBAN, 1_00 + i))
        results = run_threads(4, run_when_all_are_ready, expected=(ApplicationError,))
        runs = [r for r in results if isinstance(r, ClearingRun)]
        refusals = [r for r in results if isinstance(r, ApplicationError)]
        assert runs and all(r.code == "nothing_to_clear" for r in refusals), results
    runs = list(ClearingRun.objects.all())
    in_files = [e2e for run in runs for e2e in payments_of(parsed(run, xsd))]
    assert len(in_files) == len(set(in_files)) == len(transfers)  # each in one file, all sent
    assert set(in_files) == {str(t.pk) for t in transfers}
    for run in runs:
        assert set(run.transactions.values_list("pk", flat=True)) == {int(e) for e in payments_of(parsed(run, xsd))}
    assert not Transaction.objects.filter(kind=TransactionKind.EXTERNAL_TRANSFER,
                                          status=TransactionStatus.POSTED).exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_run_never_sends_a_transfer_whose_reversal_races_it(sam, agnes, arthur, alice, open_account, vault,
                                                              clearing):
    """Runs, reversal requests and approvals at once: a transfer ends either sent (and its reversal
    refused, or left pending to expire) or reversed (and never in a file), never both."""
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL row locks")
    account = open_account(alice, balance=1_000_00)
    transfers = [external(alice, account, DE_IBAN, 1_00) for _ in range(30)]
    # Half have a reversal waiting, approved during the runs; the other half are asked to be reversed.
    waiting = {t.pk: transaction_reverse(actor=agnes, transaction_id=t.pk, reason="Mistake") for t in transfers[::2]}
    asked = [t.pk for t in transfers[1::2]]

    def work(index, barrier):
        barrier.wait(timeout=30)
        outcomes = []
        if index < 2:
            return clearing_run_create(initiator=sam)
        for pk in (list(waiting) if index == 2 else asked):
            try:
                if index == 2:
                    outcomes.append(transaction_approve(approver=sam, transaction_id=waiting[pk].pk))
                else:
                    outcomes.append(transaction_reverse(actor=arthur, transaction_id=pk, reason="Mistake"))
            except ApplicationError as refusal:
                outcomes.append(refusal)
        return outcomes

    run_threads(4, work, expected=(ApplicationError,))  # a run may find nothing left: nothing_to_clear
    for txn in Transaction.objects.filter(pk__in=[t.pk for t in transfers]):
        posted_reversal = txn.reversals.filter(status=TransactionStatus.POSTED).exists()
        if txn.status == TransactionStatus.SENT:
            assert txn.clearing_run_id and not posted_reversal, txn
        else:
            assert txn.status == TransactionStatus.POSTED and txn.clearing_run_id is None
    # Every reversal that was waiting before the runs kept its transfer out of the files.
    assert not Transaction.objects.filter(pk__in=list(waiting), status=TransactionStatus.SENT).exists()


# --- What the customer sees ------------------------------------------------------------------------


def test_the_customer_sees_when_an_approved_transfer_was_sent(sam, alice, rich_account):
    from django.test import Client
    from pypdf import PdfReader

    from banking.receipts import receipt_pdf
    from banking.selectors import transaction_timeline

    big = external(alice, rich_account, NL_IBAN, 12_000_00, reference="Car")
    transaction_approve(approver=sam, transaction_id=big.pk)
    at = datetime(2030, 1, 2, 15, 0, 5, tzinfo=PARIS)  # after the posting, whenever the test runs
    clearing_run_create(initiator=sam, at=datetime.now(tz=PARIS))
    Transaction.objects.filter(pk=big.pk).update(sent_at=at)  # a fixed time to read back
    big.refresh_from_db()

    events = [step.event for step in transaction_timeline(big)]
    assert events[:2] == ["created", "pending"] and set(events[2:]) == {"approved", "posted", "sent"}
    assert [s.at for s in transaction_timeline(big) if s.event == "sent"] == [at]

    client = Client()
    client.force_login(alice)
    page = client.get(f"/app/transactions/{big.pk}/").content.decode()
    assert 'data-status="sent"' in page and 'data-event="sent"' in page and 'data-event="approved"' in page
    assert "Sent to the other bank" in page and "2 Jan 2030, 15:00" in page
    history = client.get(f"/app/accounts/{rich_account.pk}/").content.decode()
    assert 'data-testid="entry-sent"' in history

    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(receipt_pdf(big))).pages)
    assert "Sent to the other bank" in text and "Status" in text
