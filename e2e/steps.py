"""Steps shared by the end-to-end tests: what a person does in the browser."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from core.testing.users import TEST_PASSWORD


def menu_ready(page: Page) -> None:
    """Wait until Alpine has started the menu, which it shows by binding data-open (its scripts are
    deferred modules): a click or a key before that reaches a button with no handler yet. sign_in
    returns once the form is sent, before the next page has run them."""
    page.locator("#main-menu[data-open]").wait_for(state="attached")


def open_menu(page: Page) -> None:
    """On a phone the navigation sits behind the menu button; on a desktop it is always shown."""
    button = page.get_by_role("button", name="Menu")
    menu_ready(page)
    if button.is_visible():
        button.click()
        expect(button).to_have_attribute("aria-expanded", "true")


def sign_in(page: Page, username: str, password: str = TEST_PASSWORD, *, path: str = "/login/") -> None:
    """Sign in through the sign-in page, as a person would."""
    page.goto(path)
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def confirm_in_dialog(page: Page, label: str) -> None:
    """Answer the staff pages' confirmation (templates/workspace/_confirm_dialog.html), asked before
    approve, reject, freeze, close and deactivate, with its confirm button (`label`)."""
    dialog = page.get_by_test_id("confirm-dialog")
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name=label).click()
