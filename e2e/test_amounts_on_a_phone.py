"""Balances of five and six digits on a 360-pixel Pixel 5 (issue 14's walk): the currency stays on
the amount's line, in English and in French, and nothing spills out of its card."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from banking.tests.factories import fund
from e2e.steps import sign_in

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.parametrize("viewport", ["phone"])]

# For each amount shown: the line tops of its text and of its currency, and whether it overflows.
FIGURES = """() => [...document.querySelectorAll('[data-testid="account-balance"], [data-testid="account-available"]')]
  .map((figure) => {
    const range = document.createRange();
    range.selectNodeContents(figure.firstChild);  // the amount's text
    const amount = [...range.getClientRects()].filter((rect) => rect.width > 0);
    const currency = figure.querySelector("span").getBoundingClientRect();
    const card = figure.closest("a, section");
    return { amountLines: amount.length,
             currencyOnTheAmountsLine: currency.top < amount[0].bottom && currency.bottom > amount[0].top,
             cardFits: card.scrollWidth <= card.clientWidth + 1 };
  })"""


@pytest.mark.parametrize("language", ["en", "fr"])
def test_the_currency_stays_beside_a_five_digit_balance(page: Page, live_server, alice, alice_account, agnes, sam,
                                                        screenshot, language):
    fund(alice_account, 98_765_43 - 1_000_00, agent=agnes, approver=sam)  # 98,765.43 EUR
    sign_in(page, "alice")
    expect(page.get_by_test_id("account-balance").first).to_be_visible()
    if language == "fr":
        page.context.add_cookies([{"name": "django_language", "value": "fr", "url": live_server.url}])
    for path in ("/app/", f"/app/accounts/{alice_account.pk}/"):
        page.goto(path)
        balance = page.get_by_test_id("account-balance").first
        expect(balance).to_contain_text("98,765.43" if language == "en" else "98\u00a0765,43")
        figures = page.evaluate(FIGURES)
        assert figures and all(figure["amountLines"] == 1 and figure["currencyOnTheAmountsLine"] and figure["cardFits"]
                               for figure in figures), figures
        screenshot(f"{language}-{'accounts' if path == '/app/' else 'account'}")
