"""The staff audit dashboard's live tail, end to end: the web process under uvicorn (ASGI, as
`make run` serves it), a real nats-server, the relay and the consumer. A supervisor watching
/staff/audit/ sees a transfer made from another browser context appear without a reload; customers
and agents are refused both dashboards."""

from __future__ import annotations

import time
import uuid

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from banking.models import Transaction
from core.testing.users import TEST_PASSWORD
from e2e.conftest import ARTIFACTS, VIEWPORTS
from e2e.steps import sign_in

pytestmark = pytest.mark.django_db(transaction=True)

LIVE_WAIT_MS = 10_000  # generous for a loaded CI machine; the measured figure is printed


@pytest.fixture
def staff_context(new_context, asgi_server) -> BrowserContext:
    context = new_context(viewport=VIEWPORTS["desktop"], base_url=asgi_server.url)
    context.set_default_timeout(10_000)
    return context


def move_money_through_the_api(context: BrowserContext, username: str, source, destination_iban: str) -> dict:
    """What an integrator's script does, from its own browser context: a token, then a transfer."""
    token = context.request.post("/api/v1/auth/token/", data={"username": username, "password": TEST_PASSWORD})
    assert token.ok, token.text()
    response = context.request.post(
        "/api/v1/transfers/",
        headers={"Authorization": f"Bearer {token.json()['access']}", "Idempotency-Key": str(uuid.uuid4())},
        data={"source_account": source.pk, "destination_iban": destination_iban, "amount": "12.34",
              "reference": "Live tail"},
    )
    assert response.status == 201, response.text()
    return response.json()


def test_a_transfer_appears_on_the_supervisors_dashboard_without_a_reload(
    staff_context, new_context, asgi_server, pipeline, sam, alice, alice_account, bob_account
):
    pipeline("audit_relay")
    pipeline("audit_consume")
    page: Page = staff_context.new_page()
    sign_in(page, "sam", path="/login/?next=/staff/audit/")
    expect(page.get_by_role("heading", name="Audit log")).to_be_visible()
    expect(page.get_by_test_id("live-status")).to_have_attribute("data-state", "live")
    expect(page.get_by_test_id("chain-badge")).to_contain_text("Chain verified")
    page.evaluate("window.fluxNotReloaded = true")

    customer = new_context(viewport=VIEWPORTS["phone"], base_url=asgi_server.url)
    transfer = move_money_through_the_api(customer, "alice", alice_account, bob_account.iban)
    answered = time.monotonic()

    transaction = Transaction.objects.get(pk=transfer["id"])
    row = page.locator(f'tr[data-live="true"]:has(a[href$="/banking/transaction/{transaction.pk}/change/"])')
    expect(row).to_be_visible(timeout=LIVE_WAIT_MS)
    shown_after = time.monotonic() - answered
    print(f"\nlive tail: the transfer's event was on the dashboard {shown_after * 1000:.0f} ms after the API answered")

    expect(row.get_by_test_id("action")).to_have_text("transaction.posted")
    expect(row.get_by_test_id("actor")).to_have_text("alice")
    assert page.evaluate("window.fluxNotReloaded") is True
    # Exactly one row for it, even though the page also replays from the database on reconnection.
    expect(page.locator(f'a[href$="/banking/transaction/{transaction.pk}/change/"]')).to_have_count(1)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "audit-live-tail-desktop.png"), full_page=True)


@pytest.mark.parametrize("who", ["alice", "agnes"])
def test_customers_and_agents_get_no_access_to_either_dashboard(staff_context, asgi_server, request, who):
    request.getfixturevalue(who)
    page = staff_context.new_page()
    sign_in(page, who)
    # A customer's home is their accounts page; staff stay on the home page.
    expect(page).to_have_url(f"{asgi_server.url}/app/" if who == "alice" else f"{asgi_server.url}/agent/")

    for path in ("/staff/audit/", "/staff/nats/"):
        response = page.goto(path)
        assert response is not None and response.status == 403
        expect(page.get_by_role("heading", name="No access")).to_be_visible()
        expect(page.get_by_test_id("audit-table")).to_have_count(0)
    response = page.request.get("/staff/audit/stream/")
    assert response.status == 403
