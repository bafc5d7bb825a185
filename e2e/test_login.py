"""Signing in and out through the pages, on a phone and on a desktop: the navigation each role
sees, the error for a wrong password, and the audit event each attempt leaves."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from audit import actions
from audit.models import AuditEvent
from e2e.steps import menu_ready, open_menu, sign_in

pytestmark = pytest.mark.django_db(transaction=True)


def web_events(action: str, **filters) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action, data__channel="web", **filters))


def test_customer_signs_in_sees_the_customer_navigation_and_signs_out(page: Page, live_server, alice, screenshot):
    sign_in(page, "alice")

    # A customer lands on their accounts (the home page sends them there).
    expect(page).to_have_url(f"{live_server.url}/app/")
    expect(page.get_by_role("heading", name="Your accounts", level=1)).to_be_visible()
    open_menu(page)
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_test_id("signed-in-user")).to_contain_text(alice.get_full_name())
    expect(nav.get_by_test_id("signed-in-user")).to_contain_text("Customer")
    expect(nav.get_by_role("link", name="Accounts")).to_have_attribute("aria-current", "page")
    expect(nav.get_by_role("link", name="API docs")).to_be_visible()
    expect(page.locator('a[href="/staff/audit/"], a[href="/staff/nats/"]')).to_have_count(0)
    screenshot("signed-in")
    page.emulate_media(color_scheme="dark")
    screenshot("signed-in-dark")
    assert len(web_events(actions.AUTH_LOGIN, actor=alice)) == 1

    nav.get_by_role("button", name="Sign out").click()

    expect(page.get_by_role("heading", name="Sign in to Flux")).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text("You have signed out.")
    assert len(web_events(actions.AUTH_LOGOUT, actor=alice)) == 1
    page.goto("/")
    # The landing page says what Flux is and leads to sign in (issue 14's walk), as the menu does.
    expect(page.get_by_test_id("landing").get_by_role("link", name="Sign in")).to_be_visible()
    expect(page.get_by_text("on their way")).to_have_count(0)
    screenshot("landing")
    open_menu(page)
    expect(nav.get_by_role("link", name="Sign in")).to_be_visible()
    expect(page.get_by_test_id("signed-in-user")).to_have_count(0)


def test_supervisor_sees_the_audit_and_nats_links(page: Page, live_server, sam, screenshot):
    sign_in(page, "sam")

    expect(page).to_have_url(f"{live_server.url}/agent/")  # staff land on their workspace
    open_menu(page)
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_test_id("signed-in-user")).to_contain_text(sam.get_full_name())
    expect(nav.get_by_test_id("signed-in-user")).to_contain_text("Supervisor")
    expect(nav.get_by_role("link", name="Audit")).to_have_attribute("href", "/staff/audit/")
    expect(nav.get_by_role("link", name="NATS")).to_have_attribute("href", "/staff/nats/")
    expect(nav.get_by_role("link", name="API docs")).to_be_visible()
    screenshot("signed-in")
    assert len(web_events(actions.AUTH_LOGIN, actor=sam)) == 1

    nav.get_by_role("button", name="Sign out").click()

    expect(page.get_by_role("heading", name="Sign in to Flux")).to_be_visible()
    assert len(web_events(actions.AUTH_LOGOUT, actor=sam)) == 1


def test_a_wrong_password_shows_an_error_and_is_audited(page: Page, alice, screenshot):
    sign_in(page, "alice", "not-the-password")

    expect(page.get_by_role("alert")).to_have_text("Wrong username or password.")
    expect(page.get_by_label("Username")).to_have_value("alice")
    expect(page.get_by_label("Password")).to_have_value("")
    screenshot("wrong-password")
    [failure] = web_events(actions.AUTH_LOGIN_FAILED)
    assert failure.actor is None
    assert failure.target_id == str(alice.pk)
    assert failure.data["username"] == "alice"
    assert web_events(actions.AUTH_LOGIN) == []


def test_sign_in_returns_to_the_page_asked_for(page: Page, live_server, alice):
    sign_in(page, "alice", path="/login/?next=/api/v1/docs/")

    expect(page).to_have_url(f"{live_server.url}/api/v1/docs/")


@pytest.mark.parametrize("viewport", ["phone"])  # the menu button exists on small screens only
def test_the_phone_menu_works_from_the_keyboard(page: Page, alice):
    sign_in(page, "alice")
    menu_ready(page)  # CI once pressed Enter before the menu's handler was bound
    assert "Pixel 5" in page.evaluate("navigator.userAgent")  # the phone is an emulated Pixel 5
    assert page.evaluate("window.innerWidth") == 360  # the page's meta viewport fits the 360 pixels
    button = page.get_by_role("button", name="Menu")
    sign_out = page.get_by_role("button", name="Sign out")
    expect(sign_out).to_be_hidden()

    button.focus()
    page.keyboard.press("Enter")
    expect(button).to_have_attribute("aria-expanded", "true")
    expect(sign_out).to_be_visible()

    page.keyboard.press("Escape")
    expect(button).to_have_attribute("aria-expanded", "false")
    expect(sign_out).to_be_hidden()
    expect(button).to_be_focused()
