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
