"""The offline page under the development settings (`make run`: DEBUG on), where django-tailwind
links the stylesheet as `styles.css?v=<time>`: the service worker must still find the stylesheet it
stored and show the offline page styled.

The rest of the e2e suite runs under project.settings.test (DEBUG off, no `?v=`), so this module
starts the real web process (bin/web) under project.settings.dev on the test database."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, expect

from core.testing.nats import WebServer
from e2e.conftest import ARTIFACTS

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def dev_server() -> Iterator[WebServer]:
    server = WebServer(env={"DJANGO_SETTINGS_MODULE": "project.settings.dev", "WEB_CONCURRENCY": "1",
                            "DEBUG": "1"}).start()
    yield server
    print(f"--- the development server's output ---\n{server.stop()}")


@pytest.fixture
def pixel(browser: Browser, playwright: Playwright, dev_server: WebServer) -> Iterator[BrowserContext]:
    context = browser.new_context(**playwright.devices["Pixel 5"], base_url=dev_server.url, service_workers="allow")
    context.set_default_timeout(15_000)
    yield context
    context.close()


def test_the_offline_page_is_styled_under_the_development_settings(pixel: BrowserContext):
    phone: Page = pixel.new_page()
    phone.goto("/login/")
    stylesheet = phone.locator('link[rel="stylesheet"][href*="styles.css"]').get_attribute("href")
    assert "?v=" in stylesheet  # DEBUG on: the cache-busting query the worker must see through
    phone.evaluate("navigator.serviceWorker.ready.then(() => true)")
    phone.reload()
    assert phone.evaluate("navigator.serviceWorker.controller !== null")

    # Later, offline: what the browser's HTTP cache held is gone (only the worker's cache is left),
    # as it is after a day away; otherwise the exact `?v=` of a page rendered in the same second
    # could still be served from there.
    pixel.new_cdp_session(phone).send("Network.clearBrowserCache")
    pixel.set_offline(True)
    phone.goto("/app/")

    expect(phone.get_by_role("heading", name="Your accounts", level=1)).to_be_visible()
    # Styled: the stylesheet loaded from the worker's cache and Tailwind's classes apply (the
    # heading's `tracking-tight`; a browser's own style leaves letter-spacing "normal").
    spacing = phone.get_by_role("heading", name="Your accounts", level=1).evaluate(
        "(element) => getComputedStyle(element).letterSpacing")
    assert spacing != "normal"
    assert phone.evaluate("[...document.styleSheets].some((sheet) => sheet.href && sheet.href.includes('styles.css')"
                          " && sheet.cssRules.length > 0)")
    ARTIFACTS.mkdir(exist_ok=True)
    phone.screenshot(path=str(ARTIFACTS / "test_pwa_offline_dev-offline-pixel5.png"), full_page=True)
    pixel.set_offline(False)
