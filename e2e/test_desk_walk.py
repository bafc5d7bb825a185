"""The desk as the walk found it (issue 14) on a 1366-pixel desktop: IBANs on one line, the
customer's audit events readable and paged, confirmations before approve, reject, freeze and
deactivate, and the "/" shortcut that must not type into a focused field."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from banking.services import transfer_create
from e2e.conftest import ARTIFACTS
from e2e.steps import sign_in

pytestmark = pytest.mark.django_db(transaction=True)

DESKTOP = {"width": 1366, "height": 768}

# How many lines the text of each element matching `selector` takes (distinct line tops of its text).
LINES_OF_TEXT = """(selector) => [...document.querySelectorAll(selector)].map((element) => {
  const range = document.createRange();
  range.selectNodeContents(element);
  return new Set([...range.getClientRects()].filter((rect) => rect.width > 0).map((rect) => Math.round(rect.top))).size;
})"""


@pytest.fixture
def desk(new_context, live_server) -> Iterator[Page]:
    context: BrowserContext = new_context(viewport=DESKTOP, base_url=live_server.url)
    context.set_default_timeout(10_000)
    page = context.new_page()
    violations: list[str] = []
    page.on("console", lambda message: violations.append(message.text)
            if "Content Security Policy" in message.text else None)
    yield page
    assert violations == []


def shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"test_desk_walk-{name}-1366.png"), full_page=True)


def test_ibans_stay_on_one_line_on_the_customer_page(desk: Page, agnes, alice, alice_account, bob_account,
                                                     open_account):
    savings = open_account(alice, kind="savings")
    for number in range(3):
        transfer_create(initiator=alice, source_account_id=alice_account.pk, destination_iban=bob_account.iban,
                        amount=10_00, reference=f"Share {number}")
    transfer_create(initiator=alice, source_account_id=alice_account.pk, destination_iban=savings.iban,
                    amount=5_00, reference="Savings")
    sign_in(desk, "agnes")
    desk.goto(f"/agent/customers/{alice.pk}/")
    expect(desk.get_by_test_id("customer-name")).to_contain_text("Alice")

    account_ibans = desk.evaluate(LINES_OF_TEXT, '[data-testid="customer-account-iban"] a')
    transaction_ibans = desk.evaluate(LINES_OF_TEXT, '[data-testid="transaction-ibans"] span')
    assert len(account_ibans) == 2 and set(account_ibans) == {1}
    assert len(transaction_ibans) >= 8 and set(transaction_ibans) == {1}
    # Grouped by four, as printed and read aloud.
    expect(desk.get_by_test_id("customer-account-iban").first).to_have_text(
        " ".join(alice_account.iban[i:i + 4] for i in range(0, len(alice_account.iban), 4)))
    expect(desk.get_by_test_id("event-label").first).to_be_visible()
    shot(desk, "customer")


def test_approve_and_reject_ask_first_with_the_keyboard(desk: Page, sam, alice, rich_account, bob_account):
    first = transfer_create(initiator=alice, source_account_id=rich_account.pk, destination_iban=bob_account.iban,
                            amount=12_000_00, reference="Car")
    second = transfer_create(initiator=alice, source_account_id=rich_account.pk, destination_iban=bob_account.iban,
                             amount=11_000_00, reference="Boat")
    sign_in(desk, "sam")
    desk.goto("/agent/approvals/")
    dialog = desk.get_by_test_id("confirm-dialog")
    row = desk.locator(f'[data-testid="approval-row"][data-transaction="{first.pk}"]')

    # A click asks; Escape leaves everything as it was.
    row.get_by_role("button", name="Approve").click()
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text(f"Approve transaction #{first.pk} of 12,000.00\u00a0EUR? It takes effect at once.")
    expect(dialog.get_by_role("button", name="Cancel")).to_be_focused()  # the harmless choice first
    shot(desk, "approve-dialog")
    desk.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    first.refresh_from_db()
    assert first.status == "pending"

    # Cancel leaves it too.
    row.get_by_role("button", name="Approve").click()
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_be_hidden()
    first.refresh_from_db()
    assert first.status == "pending"

    # With the keyboard: Enter on Approve asks, Tab to the confirm button, Enter approves.
    row.get_by_role("button", name="Approve").focus()
    desk.keyboard.press("Enter")
    expect(dialog).to_be_visible()
    desk.keyboard.press("Tab")
    expect(dialog.get_by_role("button", name="Approve")).to_be_focused()
    desk.keyboard.press("Enter")
    expect(row).to_have_count(0)
    first.refresh_from_db()
    assert first.status == "posted" and first.decided_by == sam

    # Reject: the reason first (the browser checks it), then the question.
    other = desk.locator(f'[data-testid="approval-row"][data-transaction="{second.pk}"]')
    other.get_by_placeholder("Reason to reject").fill("No proof of funds")
    other.get_by_role("button", name="Reject").click()
    expect(dialog).to_contain_text(f"Reject transaction #{second.pk} of 11,000.00\u00a0EUR?")
    dialog.get_by_role("button", name="Reject").click()
    expect(other).to_have_count(0)
    second.refresh_from_db()
    assert second.status == "rejected" and second.decision_reason == "No proof of funds"


def test_freeze_and_deactivate_ask_first(desk: Page, sam, agnes, alice, alice_account):
    sign_in(desk, "sam")
    desk.goto(f"/agent/accounts/{alice_account.pk}/")
    desk.get_by_label("Reason (required)").fill("Card reported stolen")
    desk.get_by_role("button", name="Freeze").click()
    dialog = desk.get_by_test_id("confirm-dialog")
    expect(dialog).to_contain_text("No money can go in or out until it is unfrozen.")
    desk.keyboard.press("Escape")
    alice_account.refresh_from_db()
    assert alice_account.status == "active"
    desk.get_by_role("button", name="Freeze").click()
    dialog.get_by_role("button", name="Freeze").click()
    expect(desk.get_by_role("button", name="Unfreeze")).to_be_visible()
    alice_account.refresh_from_db()
    assert alice_account.status == "frozen"

    desk.goto("/agent/staff/")
    desk.get_by_role("button", name="Deactivate agnes").click()
    expect(dialog).to_contain_text("Deactivate agnes? They can no longer sign in until reactivated.")
    shot(desk, "deactivate-dialog")
    dialog.get_by_role("button", name="Cancel").click()
    agnes.refresh_from_db()
    assert agnes.is_active
    desk.get_by_role("button", name="Deactivate agnes").click()
    dialog.get_by_role("button", name="Deactivate").click()
    expect(desk.get_by_role("button", name="Reactivate agnes")).to_be_visible()
    agnes.refresh_from_db()
    assert not agnes.is_active


def test_slash_in_the_focused_search_types_no_slash(desk: Page, agnes, alice, alice_account):
    sign_in(desk, "agnes")
    desk.goto("/agent/")
    search = desk.get_by_label("Name, email, phone or IBAN")
    expect(search).to_be_focused()

    desk.keyboard.press("/")  # the habit: "/" to search, in the search already
    desk.keyboard.type("Ali")
    expect(search).to_have_value("Ali")
    expect(desk.get_by_test_id("search-result")).to_have_count(1)

    # Outside any field "/" brings the focus back to the search, without a slash.
    desk.locator("h1, h2").first.click()
    expect(search).not_to_be_focused()
    desk.keyboard.press("/")
    expect(search).to_be_focused()
    expect(search).to_have_value("Ali")
    # In another field "/" is just a character.
    desk.goto(f"/agent/accounts/{alice_account.pk}/")
    reason = desk.get_by_label("Reason (required)")
    reason.click()
    desk.keyboard.type("1/2")
    expect(reason).to_have_value("1/2")


def test_the_french_desk_reads_in_words_and_one_date_format(desk: Page, live_server, agnes, alice, alice_account):
    from banking.services import account_freeze

    account_freeze(actor=agnes, account_id=alice_account.pk, reason="Carte déclarée volée")
    sign_in(desk, "agnes")
    desk.context.add_cookies([{"name": "django_language", "value": "fr", "url": live_server.url}])
    desk.goto(f"/agent/customers/{alice.pk}/")

    expect(desk.get_by_role("heading", name="Événements d’audit")).to_be_visible()
    expect(desk.get_by_test_id("event-label").first).to_have_text("Compte gelé")
    expect(desk.get_by_test_id("event-reason").first).to_contain_text("Carte déclarée volée")
    expect(desk.get_by_test_id("audit-event").first).to_contain_text("Compte #")
    # One date format: "28 novembre 2026", never "28 Nov 2026" nor "2026-11-28".
    dates = desk.locator('[data-testid="audit-event"] > span').first.inner_text()
    assert " 20" in dates and "-" not in dates.split(",")[0]
    shot(desk, "customer-fr")
