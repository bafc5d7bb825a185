"""A customer is told, live, that money arrived: bob's app is open (the web under ASGI, as `make
run` serves it, with a real nats-server, the relay and the notifier), alice pays him from another
browser context, and the bell's count goes up without a reload; the notifications page shows who
paid, puts the next one at the top as it comes, and marks them read. On a Pixel 5 and a desktop."""

from __future__ import annotations

import time
import uuid

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from core.testing.users import TEST_PASSWORD
from e2e.conftest import ARTIFACTS, VIEWPORTS, phone_emulation
from e2e.steps import sign_in
from notifications.tests.support import start_notifier

pytestmark = pytest.mark.django_db(transaction=True)

LIVE_WAIT_MS = 10_000  # generous for a loaded machine; the measured figure is printed


def pay_through_the_api(context: BrowserContext, source, destination_iban: str, amount: str) -> dict:
    """Alice's transfer from her own browser context: a token, then POST transfers/."""
    token = context.request.post("/api/v1/auth/token/", data={"username": "alice", "password": TEST_PASSWORD})
    assert token.ok, token.text()
    response = context.request.post(
        "/api/v1/transfers/",
        headers={"Authorization": f"Bearer {token.json()['access']}", "Idempotency-Key": str(uuid.uuid4())},
        data={"source_account": source.pk, "destination_iban": destination_iban, "amount": amount},
    )
    assert response.status == 201, response.text()
    return response.json()


def test_the_bell_counts_money_arriving_in_bobs_open_app_without_a_reload(
    new_context, playwright, viewport, asgi_server, nats_server, pipeline, alice, bob, alice_account, bob_account
):
    pipeline("audit_relay")
    start_notifier(pipeline, nats_server)
    emulation = phone_emulation(playwright) if viewport == "phone" else {"viewport": VIEWPORTS["desktop"]}
    context = new_context(**emulation, base_url=asgi_server.url)
    context.set_default_timeout(10_000)
    page: Page = context.new_page()
    violations: list[str] = []
    page.on("console", lambda message: violations.append(message.text)
            if "Content Security Policy" in message.text else None)

    sign_in(page, "bob")
    expect(page).to_have_url(f"{asgi_server.url}/app/")
    bell = page.get_by_test_id("notification-bell")
    count = page.get_by_test_id("notification-count")
    expect(bell).to_be_visible()  # in sight on a phone too, outside the menu
    expect(count).to_be_hidden()
    page.evaluate("window.fluxNotReloaded = true")

    payer = new_context(viewport=VIEWPORTS["desktop"], base_url=asgi_server.url)
    pay_through_the_api(payer, alice_account, bob_account.iban, "12.34")
    answered = time.monotonic()

    expect(count).to_have_text("1", timeout=LIVE_WAIT_MS)
    print(f"\nnotification: bob's bell counted the payment {(time.monotonic() - answered) * 1000:.0f} ms "
          "after the API answered")
    expect(bell).to_have_attribute("aria-label", "Notifications: 1 unread")
    assert page.evaluate("window.fluxNotReloaded") is True
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"notifications-bell-{viewport}.png"), full_page=True)

    bell.click()
    expect(page.get_by_role("heading", name="Notifications")).to_be_visible()
    items = page.get_by_test_id("notifications").locator("li[data-notification-id]")
    expect(items).to_have_count(1)
    expect(items.first.get_by_test_id("notification-body")).to_have_text("Alice Liddell sent you 12.34\u00a0EUR.")

    # The next payment comes while the page is open: on top, counted, without a reload.
    page.evaluate("window.fluxNotReloaded = true")
    pay_through_the_api(payer, alice_account, bob_account.iban, "5.00")
    expect(count).to_have_text("2", timeout=LIVE_WAIT_MS)
    expect(items).to_have_count(2)
    expect(items.first.get_by_test_id("notification-body")).to_have_text("Alice Liddell sent you 5.00\u00a0EUR.")
    assert page.evaluate("window.fluxNotReloaded") is True
    page.screenshot(path=str(ARTIFACTS / f"notifications-page-live-{viewport}.png"), full_page=True)

    items.first.get_by_test_id("mark-read").click()
    expect(count).to_have_text("1")
    expect(items).to_have_count(2)
    expect(page.locator('li[data-unread="true"][data-notification-id]')).to_have_count(1)
    page.get_by_test_id("read-all").click()
    expect(count).to_be_hidden()
    page.screenshot(path=str(ARTIFACTS / f"notifications-page-read-{viewport}.png"), full_page=True)
    assert violations == [], violations
