"""Too many sign-in attempts from one address, in a browser: the 429 page says when to try again,
fits a 360-pixel phone, and leads back to the sign-in form from the keyboard."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from playwright.sync_api import Page, expect
from rest_framework.throttling import SimpleRateThrottle

from core.testing.users import TEST_PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def two_attempts_a_minute(monkeypatch):
    """The live server runs in this process: its throttles read this rate and this cache."""
    cache.clear()
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES",
                        {"user": "1000/min", "anon": "1000/min", "auth": "2/min"})
    yield
    cache.clear()


def submit(page: Page, password: str):
    page.get_by_label("Username").fill("alice")
    page.get_by_label("Password").fill(password)
    with page.expect_response(lambda response: response.request.method == "POST") as answer:
        page.get_by_role("button", name="Sign in").click()
    return answer.value


def test_the_third_attempt_gets_the_wait_page_and_the_keyboard_leads_back(
    page: Page, live_server, alice, two_attempts_a_minute, screenshot
):
    page.goto("/login/?next=/app/profile/")
    for _ in range(2):
        assert submit(page, "wrong-password").status == 200
        expect(page.get_by_role("alert")).to_contain_text("Wrong username or password.")

    answer = submit(page, TEST_PASSWORD)

    assert answer.status == 429
    seconds = int(answer.headers["retry-after"])
    expect(page.get_by_role("heading", name="Too many sign-in attempts", level=1)).to_be_visible()
    expect(page.get_by_test_id("retry-after")).to_contain_text(f"Try again in {seconds} second")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    screenshot("too-many-attempts")

    back = page.get_by_role("link", name="Back to sign in")
    for _ in range(40):  # Tab through the page until the way back has the focus
        page.keyboard.press("Tab")
        if back.evaluate("element => element === document.activeElement"):
            break
    expect(back).to_be_focused()
    page.keyboard.press("Enter")

    expect(page).to_have_url(f"{live_server.url}/login/?next=/app/profile/")
    expect(page.get_by_role("heading", name="Sign in to Flux")).to_be_visible()
    assert "_auth_user_id" not in {cookie["name"] for cookie in page.context.cookies()}
