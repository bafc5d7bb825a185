"""Verification of payee on a phone (issue 14), in English and French: alice types bob's IBAN and a
wrong name, is warned and must tick "I have checked the details" before she can go on; a name close
to bob's offers the holder's name in one click, which then matches; the check is recorded with the
transfer. And on a desktop, the beneficiary form checks the name as it is typed too."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from banking.models import Transaction
from e2e.steps import sign_in

pytestmark = [pytest.mark.django_db(transaction=True)]

TEXTS = {
    "en": {
        "no_match": "The name does not match the account holder’s.",
        "close": "Did you mean Bob Builder?",
        "match": "✓ The name matches the account holder.",
        "must_tick": "tick “I have checked the details”",
        "confirm_row": "The name does not match the account holder’s: you said you checked the details.",
    },
    "fr": {
        "no_match": "Le nom ne correspond pas à celui du titulaire du compte.",
        "close": "Vouliez-vous dire Bob Builder ?",
        "match": "✓ Le nom correspond au titulaire du compte.",
        "must_tick": "cochez « J’ai vérifié les coordonnées »",
        "confirm_row": "vous avez indiqué avoir vérifié les coordonnées.",
    },
}


@pytest.mark.parametrize("viewport", ["phone"])
@pytest.mark.parametrize("language", ["en", "fr"])
def test_alice_is_warned_before_paying_the_wrong_name(
    page: Page, live_server, alice, alice_account, bob_account, screenshot, language
):
    texts = TEXTS[language]
    sign_in(page, "alice")
    expect(page).to_have_url(f"{live_server.url}/app/")
    page.context.add_cookies([{"name": "django_language", "value": language, "url": live_server.url}])

    page.goto("/app/transfer/")
    form = page.get_by_test_id("transfer-form")
    check = page.get_by_test_id("payee-check")
    confirm_box = page.get_by_test_id("payee-confirmed")
    page.locator("#transfer-iban").fill(bob_account.iban)
    expect(confirm_box).to_be_hidden()
    page.locator("#transfer-beneficiary-name").press_sequentially("Carol Danvers", delay=20)
    expect(check).to_have_attribute("data-state", "no-match")
    expect(check).to_contain_text(texts["no_match"])
    expect(check).not_to_contain_text("Builder")  # a no-match never names the holder
    expect(confirm_box).to_be_visible()
    expect(confirm_box).not_to_be_checked()
    page.locator("#transfer-amount").fill("5.00")
    screenshot(f"no-match-{language}")

    # Without the box ticked, the server keeps her on the form and says why.
    form.locator("button[type=submit]").click()
    expect(page.get_by_test_id("payee-confirmed-error")).to_contain_text(texts["must_tick"])
    expect(page.get_by_test_id("payee-check")).to_have_attribute("data-state", "no-match")
    screenshot(f"must-confirm-{language}")
    page.get_by_test_id("payee-confirmed").check()
    page.get_by_test_id("transfer-form").locator("button[type=submit]").click()
    row = page.get_by_test_id("confirm-payee-check")
    expect(row).to_have_attribute("data-result", "no_match")
    expect(row).to_contain_text(texts["confirm_row"])
    screenshot(f"confirm-no-match-{language}")
    page.get_by_test_id("confirm-form").locator("button[type=submit]").click()
    expect(page.get_by_test_id("transfer-result")).to_have_attribute("data-status", "posted")
    txn = Transaction.objects.get(source=alice_account)
    assert (txn.payee_check, txn.beneficiary_name) == ("no_match", "Carol Danvers")
    # After a no match the history names the payee as she typed it, never the holder the check
    # would not name (banking.selectors.named_as_typed), with the IBAN underneath.
    page.goto(f"/app/accounts/{alice_account.pk}/")
    newest = page.get_by_test_id("entry").first
    expect(newest.get_by_test_id("entry-counterparty-name")).to_have_text("Carol Danvers")
    expect(newest.get_by_test_id("entry-counterparty")).to_have_text(
        " ".join(bob_account.iban[i : i + 4] for i in range(0, len(bob_account.iban), 4)))
    screenshot(f"history-{language}")

    # A typo: the holder's name is offered, one click puts it in, and it matches.
    page.goto("/app/transfer/")
    page.locator("#transfer-iban").fill(bob_account.iban)
    page.locator("#transfer-beneficiary-name").press_sequentially("Bob Bilder", delay=20)
    check = page.get_by_test_id("payee-check")
    expect(check).to_have_attribute("data-state", "close-match")
    expect(check).to_contain_text(texts["close"])
    screenshot(f"close-match-{language}")
    page.get_by_test_id("payee-use-name").click()
    expect(page.locator("#transfer-beneficiary-name")).to_have_value("Bob Builder")
    expect(check).to_have_attribute("data-state", "match")
    expect(page.get_by_test_id("payee-check-message")).to_have_text(texts["match"])
    expect(page.get_by_test_id("payee-confirmed")).to_be_hidden()
    screenshot(f"match-{language}")


@pytest.mark.parametrize("viewport", ["desktop"])
def test_the_beneficiary_form_checks_the_name_as_alice_types(
    page: Page, live_server, alice, alice_account, bob_account, screenshot
):
    sign_in(page, "alice")
    expect(page).to_have_url(f"{live_server.url}/app/")
    page.goto("/app/beneficiaries/")
    page.locator("#beneficiary-name").fill("Bob Buildr")
    page.locator("#beneficiary-iban").press_sequentially(bob_account.iban, delay=10)
    check = page.get_by_test_id("payee-check")
    expect(check).to_have_attribute("data-state", "close-match")
    expect(check).to_contain_text("Did you mean Bob Builder?")
    screenshot("beneficiary-close-match")
    page.get_by_test_id("payee-use-name").click()
    expect(page.locator("#beneficiary-name")).to_have_value("Bob Builder")
    expect(check).to_have_attribute("data-state", "match")
    page.locator("#beneficiary-iban").fill("DE89370400440532013000")
    page.locator("#beneficiary-name").press_sequentially(" GmbH", delay=10)
    expect(check).to_have_attribute("data-state", "unavailable")
    expect(check).to_contain_text("Name check unavailable for other banks")
    screenshot("beneficiary-unavailable")
