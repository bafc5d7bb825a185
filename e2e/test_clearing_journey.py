"""Money with other banks, end to end: alice pays someone at another bank; sam runs clearing on the
desk (the transfer leaves in a pain.001 file) and alice sees it "sent"; sam uploads the
correspondent's camt.053 statement (it books her transfer and brings her money from Jean Dupont)
and alice sees the credit under the payer's name. Sam on a desktop, alice on a phone."""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree
from playwright.sync_api import Page, expect

from banking.clearing.samples import V02, camt053_xml, credit, debit
from banking.models import ClearingRun, Entry, Statement, StatementEntryOutcome, Transaction, TransactionStatus
from banking.services import transfer_create
from e2e.conftest import ARTIFACTS, phone_emulation
from e2e.steps import sign_in

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.parametrize("viewport", ["desktop"])]

PAYEE_IBAN = "DE89370400440532013000"
JEAN_DUPONT_IBAN = "FR7630006000011234567890189"


def test_sam_clears_and_imports_a_statement_and_alice_sees_sent_then_money_by_name(
    page: Page, new_context, playwright, live_server, sam, alice, alice_account, tmp_path: Path, screenshot
):
    transfer = transfer_create(initiator=alice, source_account_id=alice_account.pk, destination_iban=PAYEE_IBAN,
                               amount=40_00, reference="Concert tickets", beneficiary_name="Klara Schmidt")
    customer = new_context(**phone_emulation(playwright), base_url=live_server.url)
    customer.set_default_timeout(10_000)
    phone = customer.new_page()
    sign_in(phone, "alice")
    phone.goto(f"/app/accounts/{alice_account.pk}/")
    newest = phone.get_by_test_id("entry").first
    expect(newest.get_by_test_id("entry-amount")).to_have_text("-40.00")
    expect(newest.get_by_test_id("entry-sent")).to_have_count(0)  # posted, not sent yet

    # Sam runs clearing: what waits, a confirmation, then the run and its file.
    sign_in(page, "sam")
    page.goto("/agent/clearing/")
    waiting = page.get_by_test_id("clearing-waiting")
    expect(waiting).to_contain_text("40.00")
    expect(waiting).to_contain_text("1 transfer to another bank")
    waiting.get_by_role("button", name="Run clearing").click()
    confirm = page.get_by_test_id("clearing-confirm")
    expect(confirm).to_contain_text("Send 1 transfer of 40.00")
    assert ClearingRun.objects.count() == 0  # nothing leaves before the confirmation
    screenshot("clearing-confirm")
    confirm.get_by_role("button", name="Send them").click()
    run_row = page.get_by_test_id("clearing-run")
    expect(run_row).to_have_count(1)
    expect(page.get_by_test_id("clearing-nothing-waits")).to_be_visible()
    screenshot("clearing-run")
    run = ClearingRun.objects.get()
    transfer.refresh_from_db()
    assert (transfer.status, transfer.clearing_run_id) == (TransactionStatus.SENT, run.pk)
    # The file the desk offers is the run's pain.001: one payment, to Klara Schmidt's IBAN.
    with page.expect_download() as download_info:
        run_row.get_by_role("link", name="Download", exact=False).click()
    document = etree.fromstring(Path(download_info.value.path()).read_bytes())
    namespaces = {"p": "urn:iso:std:iso:20022:tech:xsd:pain.001.001.09"}
    assert document.findtext(".//p:GrpHdr/p:NbOfTxs", namespaces=namespaces) == "1"
    assert document.findtext(".//p:CdtTrfTxInf/p:Cdtr/p:Nm", namespaces=namespaces) == "Klara Schmidt"
    assert document.findtext(".//p:PmtId/p:EndToEndId", namespaces=namespaces) == str(transfer.pk)

    # Alice sees it has left, and when.
    phone.reload()
    expect(phone.get_by_test_id("entry").first.get_by_test_id("entry-sent")).to_contain_text("Sent to the other bank")
    phone.get_by_test_id("entry").first.get_by_test_id("entry-reference").click()
    expect(phone.get_by_text("Sent to the other bank").first).to_be_visible()
    ARTIFACTS.mkdir(exist_ok=True)
    phone.screenshot(path=str(ARTIFACTS / "clearing-alice-sent-phone.png"), full_page=True)

    # The correspondent's statement: it books her transfer and credits her from Jean Dupont.
    statement_file = tmp_path / "statement.xml"
    statement_file.write_bytes(camt053_xml([
        debit("40.00", end_to_end_id=str(transfer.pk), creditor_name="Klara Schmidt", creditor_iban=PAYEE_IBAN,
              remittance="Concert tickets"),
        credit("75.00", debtor_name="Jean Dupont", debtor_iban=JEAN_DUPONT_IBAN, creditor_name="Alice Liddell",
               creditor_iban=alice_account.iban, remittance="Dinner refund"),
    ], version=V02))
    page.goto("/agent/clearing/statements/")
    page.get_by_label("camt.053 statement (XML)").set_input_files(str(statement_file))
    page.get_by_role("button", name="Import the statement").click()
    # The import asks for the confirmation box first; nothing was applied.
    assert Statement.objects.count() == 0
    page.get_by_label("This is the correspondent bank's statement").check()
    page.get_by_role("button", name="Import the statement").click()
    expect(page.get_by_test_id("count-credited")).to_have_text("1")
    expect(page.get_by_test_id("count-booked")).to_have_text("1")
    expect(page.get_by_test_id("count-suspense")).to_have_text("0")
    screenshot("statement-imported")
    outcomes = sorted(Statement.objects.get().statement_entries.values_list("outcome", flat=True))
    assert outcomes == [StatementEntryOutcome.BOOKED, StatementEntryOutcome.CREDITED]

    # Alice reads the money in under the payer's name.
    phone.goto(f"/app/accounts/{alice_account.pk}/")
    newest = phone.get_by_test_id("entry").first
    expect(newest.get_by_test_id("entry-amount")).to_have_text("+75.00")
    expect(newest.get_by_test_id("entry-counterparty-name")).to_have_text("Jean Dupont")
    expect(newest.get_by_test_id("entry-reference")).to_have_text("Dinner refund")
    phone.screenshot(path=str(ARTIFACTS / "clearing-alice-credit-phone.png"), full_page=True)
    incoming = Transaction.objects.get(kind="incoming_transfer")
    assert Entry.objects.get(transaction=incoming, account=alice_account).amount == 75_00
