"""The staff dashboards in French on a desktop (issue 14's walk), with their scripts' times in the
bank's time zone even when the browser sits in another one."""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import BrowserContext, expect

from e2e.conftest import ARTIFACTS
from e2e.steps import sign_in

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def french_desktop(new_context, live_server) -> BrowserContext:
    # A supervisor's browser in New York: the bank's times are still Paris times.
    context = new_context(viewport={"width": 1366, "height": 800}, base_url=live_server.url,
                          timezone_id="America/New_York")
    context.set_default_timeout(10_000)
    return context


def test_the_nats_dashboard_in_french_with_paris_times(french_desktop: BrowserContext, live_server, sam, nats_down):
    page = french_desktop.new_page()
    sign_in(page, "sam")
    french_desktop.add_cookies([{"name": "django_language", "value": "fr", "url": live_server.url}])
    page.goto("/staff/nats/")

    expect(page.get_by_role("heading", name="NATS", level=1)).to_be_visible()
    expect(page.get_by_test_id("nats-unreachable")).to_contain_text("NATS est injoignable.")
    # The script's refresh (every 2 s) rewrites the time: still the Paris clock, not New York's.
    page.wait_for_timeout(2500)
    shown = page.get_by_test_id("checked-at").inner_text()
    paris = datetime.now(ZoneInfo("Europe/Paris"))
    assert re.fullmatch(r"\d\d:\d\d:\d\d", shown)
    assert abs(int(shown[:2]) * 60 + int(shown[3:5]) - (paris.hour * 60 + paris.minute)) <= 1
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "test_staff_dashboards_french-nats-desktop.png"), full_page=True)

    page.goto("/staff/audit/?from=hier")
    expect(page.get_by_role("heading", name="Journal d’audit", level=1)).to_be_visible()
    expect(page.get_by_text("Indiquez une date (2026-01-31) ou une date et heure ISO 8601.")).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / "test_staff_dashboards_french-audit-desktop.png"), full_page=True)
