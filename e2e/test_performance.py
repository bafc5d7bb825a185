"""The performance page, end to end: bin/web with two workers, the relay, the consumer and the
scheduler, each publishing its figures on a real nats-server; sam watches them move, live, while a
load of transfers runs, in English on a desktop and in French on a phone; an agent is refused."""

from __future__ import annotations

import json
import threading
import urllib.request
import uuid

import pytest
from playwright.sync_api import Page, expect

from core.testing.nats import WebServer
from core.testing.users import TEST_PASSWORD
from e2e.conftest import ARTIFACTS, VIEWPORTS, phone_emulation
from e2e.steps import sign_in

pytestmark = pytest.mark.django_db(transaction=True)

SNAPSHOTS = {"FLUX_PERFORMANCE_SNAPSHOTS": "1"}


@pytest.fixture
def deployment(nats_server, pipeline):
    web = WebServer(nats_server, env=SNAPSHOTS).start()
    for command in ("audit_relay", "audit_consume", "run_scheduler"):
        pipeline(command, **SNAPSHOTS)
    yield web
    print(web.stop()[-3000:])


def transfers_until(base_url: str, stop: threading.Event, source, destination_iban: str) -> None:
    def call(path: str, body: dict, headers: dict) -> dict:
        request = urllib.request.Request(f"{base_url}{path}", data=json.dumps(body).encode(),
                                         headers={"Content-Type": "application/json", **headers})
        with urllib.request.urlopen(request, timeout=30) as answer:
            return json.loads(answer.read())

    access = call("/api/v1/auth/token/", {"username": "alice", "password": TEST_PASSWORD}, {})["access"]
    while not stop.is_set():
        body = {"source_account": source.pk, "destination_iban": destination_iban, "amount": "0.01"}
        call("/api/v1/transfers/", body, {"Authorization": f"Bearer {access}", "Idempotency-Key": str(uuid.uuid4())})


def test_sam_watches_every_process_live_while_money_moves(new_context, deployment, sam, alice, alice_account,
                                                          bob_account, playwright):
    context = new_context(viewport=VIEWPORTS["desktop"], base_url=deployment.url)
    context.set_default_timeout(15_000)
    page: Page = context.new_page()
    violations: list[str] = []
    page.on("console", lambda message: violations.append(message.text)
            if "Content Security Policy" in message.text else None)
    sign_in(page, "sam", path="/login/?next=/staff/performance/")
    expect(page.get_by_role("heading", name="Performance", exact=True)).to_be_visible()

    # Every process shows up: two web workers, relay, consumer, scheduler.
    rows = page.get_by_test_id("process-row")
    expect(rows).to_have_count(5, timeout=20_000)
    ARTIFACTS.mkdir(exist_ok=True)
    expect(page.locator('[data-testid="process-row"][data-service="web"]')).to_have_count(2)

    # Money moves while sam watches: an integrator's loop of transfers, from a thread of its own.
    stop = threading.Event()
    loader = threading.Thread(target=transfers_until, args=(deployment.url, stop, alice_account, bob_account.iban))
    loader.start()
    try:
        expect(page.get_by_test_id("summary-transfers")).not_to_have_text("0.0", timeout=15_000)
        page.wait_for_timeout(4_000)  # a few points on the charts
        page.screenshot(path=str(ARTIFACTS / "performance-live-desktop.png"), full_page=True)
    finally:
        stop.set()
        loader.join(timeout=30)
    expect(page.get_by_test_id("summary-requests")).not_to_have_text("0.0", timeout=10_000)
    expect(page.get_by_test_id("summary-p99")).to_contain_text("ms")
    expect(page.get_by_test_id("requests-chart")).to_be_visible()
    assert page.evaluate("typeof window.Chart") == "function"
    assert page.get_by_test_id("fetch-failed").is_hidden()
    assert violations == []

    # In French, on a phone.
    phone = new_context(**phone_emulation(playwright), base_url=deployment.url)
    phone.set_default_timeout(15_000)
    french = phone.new_page()
    sign_in(french, "sam")
    phone.add_cookies([{"name": "django_language", "value": "fr", "url": deployment.url}])  # the switcher's cookie
    french.goto("/staff/performance/")
    expect(french.get_by_role("heading", name="Performances", exact=True)).to_be_visible()
    expect(french.get_by_test_id("process-row")).to_have_count(5, timeout=20_000)
    expect(french.get_by_role("columnheader", name="Requêtes / s")).to_be_visible()
    width = french.evaluate("document.documentElement.scrollWidth")
    assert width <= VIEWPORTS["phone"]["width"], f"the page is {width} px wide on a 360 px phone"
    french.screenshot(path=str(ARTIFACTS / "performance-live-phone-fr.png"), full_page=True)


def test_an_agent_is_refused_the_performance_page(new_context, deployment, agnes):
    context = new_context(viewport=VIEWPORTS["desktop"], base_url=deployment.url)
    page = context.new_page()
    sign_in(page, "agnes")
    response = page.goto("/staff/performance/")
    assert response is not None and response.status == 403
    assert page.request.get("/staff/performance/status.json").status == 403
