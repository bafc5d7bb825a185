"""A customer on a phone: saves a beneficiary (the IBAN checked as typed: a typo first, then the
right one), renames it, then downloads a month's CSV statement and sees the money in / out chart."""

from __future__ import annotations

import csv
import io

import pytest
from playwright.sync_api import Page, expect

from banking.models import Beneficiary
from banking.tests.history import INJECTION, LAST_LABEL, book_history
from e2e.steps import open_menu, sign_in

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.parametrize("viewport", ["phone"])]

TYPO_IBAN = "DE89 3704 0044 0532 0130 01"
GOOD_IBAN = "DE89 3704 0044 0532 0130 00"


@pytest.fixture
def history(alice, bob, open_account, agnes, vault, clearing):
    return book_history(customer=alice, other_customer=bob, open_account=open_account, agent=agnes)


def test_beneficiary_then_csv_statement(page: Page, live_server, alice, history, screenshot):
    sign_in(page, "alice")
    open_menu(page)
    page.get_by_role("link", name="Beneficiaries").click()
    expect(page.get_by_role("heading", name="Beneficiaries", level=1)).to_be_visible()
    expect(page.get_by_test_id("beneficiaries-empty")).to_be_visible()

    # A typo in the IBAN: said as it is typed, and the form is not sent.
    page.get_by_label("Name").fill("Landlord")
    iban = page.get_by_label("IBAN")
    iban.fill(TYPO_IBAN)
    hint = page.get_by_test_id("iban-hint")
    expect(hint).to_have_text("This IBAN has a typo: its check digits do not match.")
    expect(iban).to_have_attribute("aria-invalid", "true")
    page.get_by_role("button", name="Save the beneficiary").click()
    expect(iban).to_be_focused()
    screenshot("iban-typo")
    assert not Beneficiary.objects.exists()

    iban.fill(GOOD_IBAN)
    expect(hint).to_have_text("The IBAN looks right.")
    page.get_by_role("button", name="Save the beneficiary").click()
    expect(page.get_by_role("status").filter(has_text="Landlord is saved as a beneficiary.")).to_be_visible()
    saved = page.get_by_test_id("beneficiary")
    expect(saved).to_have_count(1)
    expect(saved.get_by_test_id("beneficiary-iban")).to_have_text(GOOD_IBAN)
    screenshot("beneficiaries")

    saved.get_by_role("link", name="Rename Landlord").click()
    name = page.get_by_label("New name")
    expect(name).to_have_value("Landlord")
    name.fill("Mr Smith, landlord")
    page.get_by_role("button", name="Save the name").click()
    expect(page.get_by_test_id("beneficiary-name")).to_have_text("Mr Smith, landlord")
    assert list(Beneficiary.objects.values_list("customer", "name", "iban")) == [
        (alice.pk, "Mr Smith, landlord", GOOD_IBAN.replace(" ", ""))
    ]

    open_menu(page)
    page.get_by_role("link", name="Statements").click()
    expect(page.get_by_role("heading", name="Statements", level=1)).to_be_visible()
    checking = page.locator(f'[data-testid="statement-account"][data-account-id="{history.checking.pk}"]')
    checking.get_by_label("Month").select_option(LAST_LABEL)
    # The chart is drawn by Chart.js; its figures are in the table too.
    expect(page.get_by_test_id("money-chart").get_by_role("status")).to_be_hidden()
    expect(page.locator(f'tr[data-month="{LAST_LABEL}"]')).to_contain_text("1,225.00")
    screenshot("statements")

    with page.expect_download() as download_info:
        checking.get_by_role("button", name="Download CSV").click()
    download = download_info.value
    assert download.suggested_filename == f"flux-{history.checking.iban}-{LAST_LABEL}.csv"
    content = open(download.path(), encoding="utf-8-sig").read()
    rows = list(csv.reader(io.StringIO(content)))
    assert ["Opening balance", "300.00"] in rows and ["Closing balance", "1235.00"] in rows
    lines = rows[9:]
    assert len(lines) == 5
    assert "'" + INJECTION in [line[3] for line in lines]  # the formula is text, not a formula
    assert [line[4] for line in lines] == ["1200.00", "-50.00", "-200.00", "25.00", "-40.00"]

    open_menu(page)
    page.get_by_role("link", name="Profile").click()
    expect(page.get_by_label("Email")).to_have_value(alice.email)
    screenshot("profile")
