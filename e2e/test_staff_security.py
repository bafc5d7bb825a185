"""A supervisor with two-factor sign-in required: enrols with the QR page (the key typed into an
"app" here), reaches agent management, unlocks a locked-out agent and creates an agent; the page
shows no password: the agent chooses hers through the link mailed to her, signs in and is asked to
set up two-factor sign-in; on a phone and a desktop."""

from __future__ import annotations

import re
from base64 import b32decode

import pytest
from django.test import Client
from django_otp.oath import totp
from playwright.sync_api import Page, expect

from e2e.steps import open_menu, sign_in
from identity.models import User

EVE_PASSWORD = "eve-chose-this-herself-2026"

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.parametrize("viewport", ["desktop", "phone"])]


@pytest.fixture
def required(settings):
    settings.FLUX_REQUIRE_2FA = True
    # No wait after the wrong code below (django-otp's throttling; its message is tested in
    # identity/tests/test_2fa.py), whatever the machine's speed.
    settings.OTP_TOTP_THROTTLE_FACTOR = 0


def current_code(secret_text: str) -> str:
    """What an authenticator app shows for the key displayed on the page."""
    return f"{totp(b32decode(secret_text.replace(' ', ''))):06d}"


def test_sam_enrols_then_unlocks_agnes_and_creates_an_agent(page: Page, live_server, sam, agnes, required,
                                                           mailoutbox, screenshot):
    sign_in(page, "sam", path="/login/?next=/agent/staff/")

    expect(page.get_by_role("heading", name="Set up two-factor sign-in", level=1)).to_be_visible()
    expect(page.get_by_test_id("qr-code").locator("svg")).to_be_visible()
    screenshot("enrol")
    page.goto("/agent/staff/")  # not before the code
    expect(page.get_by_role("heading", name="Set up two-factor sign-in", level=1)).to_be_visible()
    page.get_by_label("6-digit code").fill("000000" if current_code(page.get_by_test_id("totp-secret").inner_text())
                                           != "000000" else "111111")
    page.get_by_role("button", name="Confirm and continue").click()
    expect(page.get_by_text("That code is not the current one")).to_be_visible()
    page.get_by_label("6-digit code").fill(current_code(page.get_by_test_id("totp-secret").inner_text()))
    page.get_by_role("button", name="Confirm and continue").click()

    expect(page.get_by_role("heading", name="Agents", level=1)).to_be_visible()
    assert page.url.endswith("/agent/staff/")

    # Agnes is locked out by five wrong passwords; sam unlocks her.
    for n in range(5):
        Client().post("/login/", {"username": "agnes", "password": f"wrong-{n}"})
    page.reload()
    agnes_row = page.locator('[data-username="agnes"]')
    expect(agnes_row.get_by_test_id("locked-out")).to_be_visible()
    screenshot("locked-out")
    agnes_row.get_by_role("button", name="Unlock").click()
    expect(page.get_by_text("is unlocked and can try again")).to_be_visible()
    expect(page.locator('[data-username="agnes"]').get_by_test_id("locked-out")).to_have_count(0)

    # A new agent: no password on the page; a link goes to her mailbox.
    page.get_by_label("Username").fill("eve")
    page.get_by_label("First name").fill("Eve")
    page.get_by_label("Last name").fill("Stone")
    page.get_by_label("Email").fill("eve@example.com")
    page.get_by_role("button", name="Create the agent").click()
    expect(page.get_by_text("A link to choose their password is on its way to eve@example.com")).to_be_visible()
    eve_row = page.locator('[data-username="eve"]')
    expect(eve_row.get_by_test_id("no-password-yet")).to_be_visible()
    screenshot("created")
    assert not User.objects.get(username="eve").has_usable_password()
    [mail] = mailoutbox
    assert mail.to == ["eve@example.com"]
    link = re.search(r"https?://\S+/account/password/\S+/", mail.body).group(0)
    assert link.startswith(live_server.url)
    open_menu(page)
    page.get_by_role("navigation", name="Main").get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in to Flux")).to_be_visible()

    # Eve opens the link, chooses her password (a weak one is refused), signs in, and must enrol.
    page.goto(link)
    expect(page.get_by_role("heading", name="Choose your password", level=1)).to_be_visible()
    page.get_by_label("New password", exact=True).fill("short")
    page.get_by_label("New password confirmation").fill("short")
    page.get_by_role("button", name="Save my password").click()
    expect(page.get_by_text("This password is too short.")).to_be_visible()
    screenshot("choose-password")
    page.get_by_label("New password", exact=True).fill(EVE_PASSWORD)
    page.get_by_label("New password confirmation").fill(EVE_PASSWORD)
    page.get_by_role("button", name="Save my password").click()
    expect(page.get_by_text("Your password is set.")).to_be_visible()
    sign_in(page, "eve", EVE_PASSWORD)
    expect(page.get_by_role("heading", name="Set up two-factor sign-in", level=1)).to_be_visible()
    # The link worked once.
    page.goto(link)
    expect(page.get_by_role("heading", name="This link no longer works", level=1)).to_be_visible()
