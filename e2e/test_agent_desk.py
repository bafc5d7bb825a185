"""Agnes at her desk (desktop): finds alice by typing part of her IBAN, opens her page with the
keyboard, pays cash in through the confirmation, and sees the receipt; then the approval queue.
A screenshot of each page."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from banking.models import Transaction
from banking.services import deposit_create
from e2e.steps import sign_in

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.parametrize("viewport", ["desktop"])]


def grouped(iban: str) -> str:
    return " ".join(iban[i : i + 4] for i in range(0, len(iban), 4))


def test_agnes_finds_alice_by_iban_deposits_cash_and_sees_the_receipt(
    page: Page, live_server, agnes, sam, alice, alice_account, bob_account, screenshot
):
    sign_in(page, "agnes")
    page.goto("/agent/")
    search = page.get_by_label("Name, email, phone or IBAN")
    expect(search).to_be_focused()
    screenshot("home")

    # Part of her IBAN, typed as people do (lower case, with a space): results as you type.
    fragment = alice_account.iban[4:12]
    search.press_sequentially(f"{fragment[:4].lower()} {fragment[4:]}", delay=30)
    results = page.get_by_test_id("search-result")
    expect(results).to_have_count(1)
    expect(results.first).to_contain_text("Alice")
    expect(results.first).to_contain_text(grouped(alice_account.iban))
    screenshot("search")

    # Enter opens the first result.
    search.press("Enter")
    expect(page).to_have_url(f"{live_server.url}/agent/customers/{alice.pk}/")
    expect(page.get_by_test_id("customer-name")).to_contain_text("Alice")
    expect(page.get_by_test_id("account-balance").first).to_have_text("1,000.00\u00a0EUR")
    screenshot("customer")

    page.get_by_role("link", name="Cash", exact=True).click()
    expect(page.get_by_role("heading", name="Cash at the counter")).to_be_visible()
    expect(page.get_by_label("Deposit (cash in)")).to_be_checked()
    page.get_by_label("Amount (EUR)").fill("250.00")
    page.get_by_label("Reference (optional)").fill("Counter deposit")
    screenshot("cash-form")
    page.get_by_role("button", name="Continue").click()

    question = f"Pay in 250.00\u00a0EUR to {grouped(alice_account.iban)}?"
    expect(page.get_by_test_id("cash-question")).to_have_text(question)
    assert not Transaction.objects.filter(reference="Counter deposit").exists()
    screenshot("cash-confirm")
    page.get_by_role("button", name="Confirm").dblclick()  # an impatient double click moves cash once

    receipt = page.get_by_test_id("receipt")
    expect(receipt).to_have_attribute("data-status", "posted")
    expect(page.get_by_test_id("receipt-amount")).to_have_text("250.00\u00a0EUR")
    expect(page.get_by_test_id("receipt-balance")).to_have_text("1,250.00\u00a0EUR")
    expect(page.get_by_role("button", name="Print")).to_be_visible()
    # Printing hides the navigation and the buttons, not the receipt.
    page.emulate_media(media="print")
    expect(page.get_by_role("navigation", name="Main")).to_be_hidden()
    expect(page.get_by_role("button", name="Print")).to_be_hidden()
    expect(receipt).to_be_visible()
    screenshot("receipt-print")
    page.emulate_media(media="screen")
    screenshot("receipt")
    assert Transaction.objects.filter(reference="Counter deposit").count() == 1

    # The Print button calls window.print (stubbed: a headless print dialog would block).
    page.evaluate("() => { window.__printed = 0; window.print = () => { window.__printed += 1; }; }")
    page.get_by_role("button", name="Print").click()
    assert page.evaluate("window.__printed") == 1

    # The approval queue: agnes's own large deposit shows no buttons for her.
    own = deposit_create(initiator=agnes, account_id=bob_account.pk, amount=6_000_00, reference="Big cash")
    page.keyboard.press("a")
    expect(page).to_have_url(f"{live_server.url}/agent/approvals/")
    row = page.locator(f'[data-transaction="{own.pk}"]')
    expect(row.get_by_test_id("own-note")).to_be_visible()
    expect(row.get_by_role("button", name="Approve")).to_have_count(0)
    page.keyboard.press("?")
    expect(page.get_by_test_id("shortcuts")).to_be_visible()
    screenshot("approvals")
