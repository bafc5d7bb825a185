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


# The offline forms (static/js/offline.js) read a typed amount with static/js/lib/amount.js, by the
# same rules as the pages' forms (core.money.parse_typed_amount): the same cases give the same answers.
TYPED = [
    ("fr", "1 234,50", "1234.50"), ("fr", "1\u00a0234,50", "1234.50"), ("fr", "1\u202f234,50", "1234.50"),
    ("fr", "1.234,50", "1234.50"), ("fr", "12,5", "12.5"), ("fr", "1.234.567", "1234567"),
    ("en", "1,234.50", "1234.50"), ("en", "1,234", "1234"), ("en", "12,50", "12.50"),
    ("fr", "1.234", None), ("fr", "1,234", None), ("en", "1.234", None), ("fr", "1 23,50", None),
    ("fr", "1 234.567,50", None), ("fr", "0,00", None), ("fr", "-5", None), ("en", "abc", None),
]


def test_the_offline_forms_read_typed_amounts_as_the_pages_do(page: Page, alice):
    from core.money import AmountError, parse_typed_amount

    page.goto("/login/")
    answers = page.evaluate("""(cases) => import('/static/js/lib/amount.js').then(({ plainAmount }) =>
        cases.map(([language, typed]) => plainAmount(typed, language)))""", [[lang, typed] for lang, typed, _ in TYPED])
    assert answers == [plain for _lang, _typed, plain in TYPED]
    for (language, typed, _plain), answer in zip(TYPED, answers, strict=True):
        try:
            minor = parse_typed_amount(typed, language=language)
        except AmountError:
            minor = None
        assert (minor is None) == (answer is None), typed
        if minor is not None:
            assert round(float(answer) * 100) == minor, typed


def test_a_frozen_account_on_a_phone_in_french(page: Page, live_server, alice, alice_account, agnes, screenshot):
    from banking.services import account_freeze

    account_freeze(actor=agnes, account_id=alice_account.pk, reason="Carte déclarée volée")
    sign_in(page, "alice")
    page.context.add_cookies([{"name": "django_language", "value": "fr", "url": live_server.url}])
    page.goto(f"/app/accounts/{alice_account.pk}/")

    expect(page.get_by_test_id("account-status")).to_contain_text("Gelé")
    expect(page.get_by_test_id("account-available")).to_have_text("0,00\u00a0EUR")
    expect(page.get_by_test_id("account-balance")).to_have_text("1\u00a0000,00\u00a0EUR")
    expect(page.get_by_test_id("account-frozen-reason")).to_have_text("Motif indiqué\u00a0: Carte déclarée volée")
    screenshot("frozen-fr")
