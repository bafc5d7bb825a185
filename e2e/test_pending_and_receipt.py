"""Alice on a phone (Pixel 5; the cancel on a desktop too): a transfer large enough to wait for
approval shows under "Waiting for approval"; she cancels it through the confirmation step and the
money is available again; she opens a transaction's page from her history and downloads its
receipt, a PDF; the page fits 360 px and a desktop, in English and French."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, expect
from pypdf import PdfReader

from banking.models import Transaction, TransactionStatus
from banking.services import transfer_create
from banking.tests.factories import pending_transfer
from e2e.conftest import ARTIFACTS
from e2e.steps import sign_in

pytestmark = pytest.mark.django_db(transaction=True)
on_the_phone = pytest.mark.parametrize("viewport", ["phone"])
on_the_phone_and_a_desktop = pytest.mark.parametrize("viewport", ["phone", "desktop"])


def grouped(iban: str) -> str:
    return " ".join(iban[i : i + 4] for i in range(0, len(iban), 4))


@on_the_phone_and_a_desktop
def test_alice_cancels_a_transfer_waiting_for_approval(page: Page, live_server, alice, alice_account, rich_account,
                                                       bob_account, screenshot):
    sign_in(page, "alice")
    page.goto("/app/transfer/")
    page.get_by_label("From").select_option(str(rich_account.pk))
    page.get_by_label("Another IBAN").check()
    page.get_by_label("IBAN", exact=True).fill(grouped(bob_account.iban))
    page.get_by_label("Amount").fill("12000.00")
    page.get_by_label("Reference (optional)").fill("Car")
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("button", name="Confirm the transfer").click()
    expect(page.get_by_test_id("transfer-result")).to_have_attribute("data-status", "pending")
    txn = Transaction.objects.get(reference="Car")

    page.goto("/app/")
    pending = page.get_by_test_id("pending-transfer")
    expect(pending).to_have_count(1)
    expect(pending.get_by_test_id("pending-amount")).to_have_text("12,000.00\u00a0EUR")
    expect(pending.get_by_test_id("pending-destination")).to_contain_text(grouped(bob_account.iban))
    expect(pending).to_contain_text("Waiting for approval since")
    card = page.locator(f'[data-testid="account-card"][data-account-id="{rich_account.pk}"]')
    expect(card.get_by_test_id("account-available")).to_contain_text("18,000.00")
    screenshot("pending-overview")

    pending.get_by_test_id("pending-cancel").click()
    expect(page.get_by_role("heading", name="Cancel a transfer")).to_be_visible()
    expect(page.get_by_role("link", name="Keep it")).to_be_focused()  # the safe choice first
    screenshot("cancel-confirmation")
    # By keyboard: from "Keep it" back to the cancel button, then Enter.
    page.keyboard.press("Shift+Tab")
    expect(page.get_by_test_id("cancel-confirm")).to_be_focused()
    page.keyboard.press("Enter")

    expect(page).to_have_url(f"{live_server.url}/app/accounts/{rich_account.pk}/")
    expect(page.get_by_text("The transfer is cancelled")).to_be_visible()
    expect(page.get_by_test_id("pending")).to_have_count(0)
    expect(page.get_by_test_id("account-available")).to_contain_text("30,000.00")
    screenshot("cancelled")
    txn.refresh_from_db()
    assert txn.status == TransactionStatus.CANCELLED

    page.goto("/app/")
    expect(page.get_by_test_id("pending")).to_have_count(0)


@on_the_phone
def test_alice_opens_a_transaction_and_downloads_its_receipt(page: Page, alice, bob, alice_account, bob_account,
                                                             screenshot):
    txn = transfer_create(initiator=alice, source_account_id=alice_account.pk, destination_iban=bob_account.iban,
                          amount=42_50, reference="Concert tickets")
    sign_in(page, "alice")
    page.goto(f"/app/accounts/{alice_account.pk}/")
    page.get_by_test_id("entry").first.get_by_test_id("entry-reference").click()

    expect(page.get_by_test_id("transaction")).to_have_attribute("data-transaction-id", str(txn.pk))
    expect(page.get_by_test_id("transaction-amount")).to_have_text("-42.50\u00a0EUR")
    expect(page.get_by_test_id("transaction-payee")).to_contain_text(bob.get_full_name())
    expect(page.get_by_test_id("transaction-payee")).to_contain_text(grouped(bob_account.iban))
    expect(page.get_by_test_id("transaction-reference")).to_have_text("Concert tickets")
    expect(page.get_by_test_id("timeline-step")).to_have_count(2)
    screenshot("transaction")

    with page.expect_download() as download_info:
        page.get_by_test_id("transaction-receipt").click()
    download = download_info.value
    assert download.suggested_filename == f"flux-receipt-{txn.pk}.pdf"
    body = Path(download.path()).read_bytes()
    assert body.startswith(b"%PDF")
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(body)).pages)
    assert "42.50 EUR" in text and grouped(bob_account.iban) in text and "Concert tickets" in text


@pytest.mark.parametrize(("language", "history", "receipt"), [
    ("en", "Status history", "Download receipt"),
    ("fr", "Historique du statut", "Télécharger le reçu"),
])
def test_the_transaction_page_fits_the_phone_and_the_desktop_in_both_languages(
        page: Page, live_server, alice, bob, alice_account, bob_account, viewport, screenshot,
        language, history, receipt):
    txn = transfer_create(initiator=alice, source_account_id=alice_account.pk, destination_iban=bob_account.iban,
                          amount=12_34, reference="Rent")
    sign_in(page, "alice")
    page.context.add_cookies([{"name": "django_language", "value": language, "url": live_server.url}])
    page.goto(f"/app/transactions/{txn.pk}/")

    expect(page.get_by_test_id("transaction")).to_have_attribute("data-transaction-id", str(txn.pk))
    expect(page.locator("#history-heading")).to_have_text(history)
    expect(page.get_by_test_id("transaction-receipt")).to_have_text(receipt)
    expect(page.get_by_test_id("transaction-payee")).to_contain_text(grouped(bob_account.iban))
    # Nothing runs off the right edge: no sideways scrolling at 360 px.
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    screenshot(f"transaction-{language}")


# --- Offline: the list comes from the synced data ----------------------------------------------------

OUTBOX_READY = ("import(document.getElementById('flux-outbox').src).then((module) => module.outbox)"
                ".then((outbox) => outbox.ready).then(() => true)")


@pytest.fixture
def pixel(browser: Browser, playwright: Playwright, live_server) -> Iterator[BrowserContext]:
    """A Pixel 5 with service workers allowed (as in e2e/test_pwa_offline.py)."""
    context = browser.new_context(**playwright.devices["Pixel 5"], base_url=live_server.url, service_workers="allow")
    context.set_default_timeout(15_000)
    yield context
    context.close()


def test_offline_the_transfers_waiting_are_listed_from_the_synced_data(pixel: BrowserContext, alice, rich_account,
                                                                       bob_account):
    pending_transfer(alice, rich_account, bob_account, 12_345_00, reference="Boat")
    phone = pixel.new_page()
    sign_in(phone, "alice")
    phone.evaluate("navigator.serviceWorker.ready.then(() => true)")
    phone.reload()
    phone.evaluate(OUTBOX_READY)

    pixel.set_offline(True)
    phone.reload()

    section = phone.get_by_test_id("offline-pending")
    expect(section).to_be_visible()
    item = section.get_by_test_id("offline-pending-transfer")
    expect(item).to_have_count(1)
    expect(item).to_contain_text("12,345.00\u00a0EUR")
    expect(item).to_contain_text(grouped(bob_account.iban))
    expect(item).to_contain_text("Boat")
    expect(item).to_contain_text("Waiting for approval since")
    ARTIFACTS.mkdir(exist_ok=True)
    phone.screenshot(path=str(ARTIFACTS / "test_offline_pending-offline-pixel5.png"), full_page=True)
    pixel.set_offline(False)
