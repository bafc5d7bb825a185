"""A customer on a phone: the accounts, a transfer between two own accounts through the
confirmation step, the history that shows it and scrolls for more, the IBAN checked as typed."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from banking.models import Entry, Transaction
from banking.services import transfer_create
from e2e.steps import sign_in
from portal.views.accounts import PAGE_SIZE

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.parametrize("viewport", ["phone"])]


def grouped(iban: str) -> str:
    return " ".join(iban[i : i + 4] for i in range(0, len(iban), 4))


@pytest.fixture
def savings(open_account, alice):
    return open_account(alice, kind="savings")


def test_alice_moves_money_between_her_accounts_and_sees_it_in_the_history(
    page: Page, live_server, alice, alice_account, savings, screenshot
):
    sign_in(page, "alice")

    expect(page).to_have_url(f"{live_server.url}/app/")
    cards = page.get_by_test_id("account-card")
    expect(cards).to_have_count(2)
    expect(cards.first).to_contain_text(grouped(alice_account.iban))
    expect(cards.first.get_by_test_id("account-balance")).to_contain_text("1,000.00")
    screenshot("overview")

    page.get_by_role("link", name="Make a transfer").click()
    expect(page.get_by_role("heading", name="Transfer", level=1)).to_be_visible()
    page.get_by_label("From").select_option(str(alice_account.pk))
    expect(page.get_by_label("One of my accounts")).to_be_checked()
    expect(page.get_by_label("IBAN", exact=True)).to_be_hidden()  # only the chosen destination shows
    page.get_by_label("My account", exact=True).select_option(str(savings.pk))
    page.get_by_label("Amount").fill("12.50")
    page.get_by_label("Reference (optional)").fill("Holiday fund")
    screenshot("transfer-form")
    page.get_by_role("button", name="Continue").click()

    expect(page.get_by_test_id("confirm-question")).to_have_text(
        f"Confirm transfer of 12.50 EUR to {grouped(savings.iban)}?"
    )
    assert Transaction.objects.filter(kind="transfer").count() == 0  # nothing moves before confirming
    screenshot("confirmation")
    # An impatient double click: the button locks on the first, the token covers the rest.
    page.get_by_role("button", name="Confirm the transfer").dblclick()

    expect(page.get_by_test_id("transfer-result")).to_have_attribute("data-status", "posted")
    expect(page.get_by_role("heading", name="Transfer sent")).to_be_visible()
    # A reload of the result reads it again; it does not send again.
    page.reload()
    expect(page.get_by_role("heading", name="Transfer sent")).to_be_visible()
    assert Transaction.objects.filter(kind="transfer").count() == 1

    page.get_by_test_id("result-account-link").click()
    expect(page.get_by_test_id("account-balance")).to_contain_text("987.50")
    newest = page.get_by_test_id("entry").first
    expect(newest.get_by_test_id("entry-reference")).to_have_text("Holiday fund")
    expect(newest.get_by_test_id("entry-amount")).to_have_text("-12.50")
    expect(newest.get_by_test_id("entry-counterparty")).to_have_text(grouped(savings.iban))
    screenshot("history")
    assert Entry.objects.filter(account=savings, amount=12_50).count() == 1


def test_the_history_loads_more_as_it_scrolls_and_from_the_button(page: Page, alice, alice_account, savings):
    for n in range(PAGE_SIZE * 2 + 5):
        transfer_create(initiator=alice, source_account_id=alice_account.pk, destination_iban=savings.iban,
                        amount=1_00, reference=f"Coffee {n}")
    total = Entry.objects.filter(account=alice_account).count()
    sign_in(page, "alice")
    page.goto(f"/app/accounts/{alice_account.pk}/")
    entries = page.get_by_test_id("entry")
    expect(entries).to_have_count(PAGE_SIZE)

    entries.last.scroll_into_view_if_needed()  # the sentinel comes into view
    expect(entries).to_have_count(PAGE_SIZE * 2)

    # The button is there for the keyboard (and without JavaScript): Enter on it loads the rest.
    more = page.get_by_test_id("load-more")
    more.focus()
    page.keyboard.press("Enter")
    expect(entries).to_have_count(total)
    expect(page.get_by_test_id("entries-status")).to_have_text("That is the whole history.")
    expect(more).to_be_hidden()
    ids = [int(pk) for pk in entries.evaluate_all("items => items.map(item => item.dataset.entryId)")]
    assert ids == sorted(ids, reverse=True) and len(set(ids)) == total


def test_a_typed_iban_is_checked_as_it_is_typed(page: Page, alice, alice_account):
    sign_in(page, "alice")
    page.goto("/app/transfer/")
    iban = page.get_by_label("IBAN", exact=True)
    hint = page.get_by_test_id("iban-hint")

    iban.fill("NL91 ABNA 0417 1643 01")
    expect(hint).to_have_text("This IBAN has a typo: its check digits do not match.")
    expect(iban).to_have_attribute("aria-invalid", "true")
    page.get_by_label("Amount").fill("5")
    page.get_by_role("button", name="Continue").click()
    expect(iban).to_be_focused()  # stopped in the browser; the server would refuse it too
    expect(page.get_by_test_id("confirm-question")).to_have_count(0)

    iban.fill("NL91 ABNA 0417 1643 00")
    expect(hint).to_have_text("The IBAN looks right.")
    expect(iban).to_have_attribute("aria-invalid", "false")
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_test_id("confirm-question")).to_have_text(
        "Confirm transfer of 5.00 EUR to NL91 ABNA 0417 1643 00?"
    )


def test_the_confirm_button_is_disabled_while_the_transfer_is_sent(page: Page, alice, alice_account):
    sign_in(page, "alice")
    page.goto("/app/transfer/")
    page.get_by_label("IBAN", exact=True).fill("NL91ABNA0417164300")
    page.get_by_label("Amount").fill("3")
    page.get_by_role("button", name="Continue").click()
    form = page.get_by_test_id("confirm-form")
    # Hold the request back (as a slow network would) to look at the button meanwhile.
    form.evaluate("form => form.addEventListener('submit', (event) => event.preventDefault())")

    form.get_by_role("button").click()

    expect(form.get_by_role("button")).to_be_disabled()
    expect(form.get_by_role("button")).to_have_text("Sending…")
    expect(form.get_by_role("button")).to_have_attribute("aria-busy", "true")
    assert Transaction.objects.filter(source=alice_account).count() == 0
