"""End-to-end fixtures: the system Chromium driven by Playwright against pytest-django's live
server, at a phone's and a desktop's size.

Playwright's browsers are never downloaded (`playwright install` is not used): the tests launch
/usr/bin/chromium (Debian's `chromium` package; `.ci/run` installs it when missing)."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.conf import settings
from playwright.sync_api import Browser, BrowserType, Page, Playwright, sync_playwright

from core.testing.nats import wait_until

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
VIEWPORTS = {
    "phone": {"width": 360, "height": 740},
    "desktop": {"width": 1280, "height": 800},
}


@pytest.fixture(scope="session", autouse=True)
def built_css() -> None:
    """The pages are styled by the Tailwind build; without it the phone menu is never hidden."""
    css = Path(settings.BASE_DIR) / "theme" / "static" / "css" / "dist" / "styles.css"
    if not css.exists():
        pytest.fail(f"{css} is missing: run `make css` (or `manage.py tailwind install`) first.")


# --- Playwright, started per test module --------------------------------------------------------
# pytest-playwright starts Playwright once per session. Its sync API keeps an asyncio loop running
# in the main thread while it is started, which breaks every later test on the same xdist worker
# that calls asyncio.run() (the NATS tests) and trips Django's async-safety check. So Playwright
# lives only as long as one e2e module: the overrides below are pytest-playwright's own fixtures,
# module-scoped.


@pytest.fixture(scope="module")
def playwright(_pw_api_request_contexts) -> Iterator[Playwright]:
    # While the loop runs, Django would refuse ORM calls from this thread (test data, the live
    # server's database, the flush); they are safe: the loop only drives the browser.
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        pw = sync_playwright().start()
        if _pw_api_request_contexts:
            _pw_api_request_contexts.instrument(pw)
        yield pw
        pw.stop()


@pytest.fixture(scope="module")
def browser_type(playwright: Playwright, browser_name: str) -> BrowserType:
    return getattr(playwright, browser_name)


@pytest.fixture(scope="module")
def launch_browser(browser_type_launch_args: dict, browser_type: BrowserType) -> Callable[..., Browser]:
    def launch(**kwargs) -> Browser:
        return browser_type.launch(**{**browser_type_launch_args, **kwargs})

    return launch


@pytest.fixture(scope="module")
def browser(launch_browser: Callable[..., Browser]) -> Iterator[Browser]:
    browser = launch_browser()
    yield browser
    browser.close()


@pytest.fixture(scope="module")
def browser_context_args(pytestconfig, playwright: Playwright, device, _pw_artifacts_folder) -> dict:
    context_args = dict(playwright.devices[device]) if device else {}
    if pytestconfig.getoption("--video") in ("on", "retain-on-failure"):
        context_args["record_video_dir"] = _pw_artifacts_folder.name
    return context_args


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict) -> dict:
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: `apt-get install -y chromium` (never `playwright install`).")
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
        ],
    }


@pytest.fixture(params=list(VIEWPORTS))
def viewport(request) -> str:
    """Every browser test runs on a 360x740 phone and on a desktop screen."""
    return request.param


def phone_emulation(playwright: Playwright) -> dict:
    """A Pixel 5 (mobile user agent, touch, its pixel density) narrowed to the 360-pixel width the
    pages must fit."""
    device = {key: value for key, value in playwright.devices["Pixel 5"].items() if key != "default_browser_type"}
    return device | {"viewport": VIEWPORTS["phone"], "screen": VIEWPORTS["phone"]}


@pytest.fixture
def page(new_context, playwright: Playwright, viewport: str, live_server) -> Iterator[Page]:
    """A page of a fresh browser context at the test's viewport (the phone is an emulated Pixel 5),
    with the live server as base URL. The test fails if the browser complains about the security
    headers on it: a Content-Security-Policy violation (a blocked inline script or style, a refused
    load) or a Permissions-Policy it cannot read."""
    emulation = phone_emulation(playwright) if viewport == "phone" else {"viewport": VIEWPORTS[viewport]}
    context = new_context(**emulation, base_url=live_server.url)
    context.set_default_timeout(10_000)
    page = context.new_page()
    violations: list[str] = []
    page.on("console", lambda message: violations.append(message.text)
            if "Content Security Policy" in message.text or "Permissions-Policy" in message.text else None)
    yield page
    # The browser stops first, then the live server's last requests are let finish: the database
    # is emptied after this (TRUNCATE), and a request still inside a transaction then (the page
    # the test ended on, fetching what it shows) deadlocked with it, failing this test's teardown
    # and the next test on the rows left behind.
    context.close()
    _wait_for_idle_database()
    assert violations == [], f"Security header complaints: {violations}"


def _wait_for_idle_database() -> None:
    """Until no other session of the test database is inside a statement or a transaction, seen
    twice in a row (PostgreSQL; on SQLite the live server's thread shares the test's lock)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    quiet: list[bool] = []

    def idle_twice() -> bool:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) = 0 FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid() AND state <> 'idle'"
            )
            quiet.append(cursor.fetchone()[0])
        return quiet[-2:] == [True, True]

    wait_until(idle_twice, timeout=10, message="the live server's last requests never left the database")


@pytest.fixture
def screenshot(page: Page, viewport: str, request) -> Callable[[str], Path]:
    """`screenshot("signed-in")` saves the whole page under e2e/artifacts/ (not committed)."""

    def take(name: str) -> Path:
        ARTIFACTS.mkdir(exist_ok=True)
        test_name = re.sub(r"\[.*\]$", "", request.node.name)
        path = ARTIFACTS / f"{test_name}-{name}-{viewport}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take
