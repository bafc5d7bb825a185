"""The installed app on a Pixel 5: the manifest, the service worker in control, the last balances
offline with the banner, and a transfer queued offline that is posted exactly once back online."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, Route, expect

from banking.models import Account, Entry, Transaction
from core.models import IdempotencyKey
from core.testing.api import bearer_client as api_for
from e2e.conftest import ARTIFACTS
from e2e.steps import open_menu, sign_in

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def pixel(browser: Browser, playwright: Playwright, live_server) -> Iterator[BrowserContext]:
    """A Pixel 5 (viewport, touch, user agent), with service workers allowed, on the live server."""
    context = browser.new_context(**playwright.devices["Pixel 5"], base_url=live_server.url, service_workers="allow")
    context.set_default_timeout(15_000)
    yield context
    context.close()


@pytest.fixture
def phone(pixel: BrowserContext) -> Page:
    return pixel.new_page()


@pytest.fixture
def shot(phone: Page, request) -> Callable[[str], Path]:
    def take(name: str) -> Path:
        ARTIFACTS.mkdir(exist_ok=True)
        path = ARTIFACTS / f"{request.node.name}-{name}-pixel5.png"
        phone.screenshot(path=str(path), full_page=True)
        return path

    return take


# The page's outbox module (static/js/offline-outbox.js), the instance its script element loaded:
# `ready` settles once the first sync and replay are done.
OUTBOX = "import(document.getElementById('flux-outbox').src).then((module) => module.outbox)"
OUTBOX_READY = f"{OUTBOX}.then((outbox) => outbox.ready).then(() => true)"


def signed_in_and_synced(phone: Page, username: str) -> None:
    """Sign in, let the service worker take control (one reload) and the first sync finish."""
    sign_in(phone, username)
    expect(phone).to_have_url("/app/")
    phone.evaluate("navigator.serviceWorker.ready.then(() => true)")
    phone.reload()
    assert phone.evaluate("navigator.serviceWorker.controller !== null")
    phone.evaluate(OUTBOX_READY)



def queue_transfer(phone: Page, destination_iban: str, amount: str, reference: str) -> None:
    form = phone.get_by_test_id("outbox-form")
    form.get_by_label("To (IBAN)").fill(destination_iban)
    form.get_by_label("Amount").fill(amount)
    form.get_by_label("Reference (optional)").fill(reference)
    form.get_by_role("button", name="Queue transfer").click()


def test_the_manifest_is_linked_and_valid(phone: Page, alice, alice_account, shot):
    sign_in(phone, "alice")

    href = phone.locator('link[rel="manifest"]').get_attribute("href")
    response = phone.request.get(href)
    assert response.ok
    assert response.headers["content-type"] == "application/json"
    manifest = json.loads(response.text())
    assert manifest["name"] == "Flux" and manifest["short_name"] == "Flux"
    assert manifest["display"] == "standalone"
    assert manifest["start_url"] == "/app/"
    assert any(icon["purpose"] == "maskable" for icon in manifest["icons"])
    for icon in manifest["icons"]:
        image = phone.request.get(icon["src"])
        assert image.ok and image.headers["content-type"] == "image/png"
    shot("signed-in")


def test_offline_balances_and_a_queued_transfer_posted_once(phone: Page, pixel: BrowserContext, alice,
                                                            alice_account, bob_account, shot):
    signed_in_and_synced(phone, "alice")
    shot("online")

    pixel.set_offline(True)
    phone.reload()

    banner = phone.get_by_test_id("offline-banner")
    expect(banner).to_be_visible()
    expect(banner).to_contain_text("Offline — last synced at")
    card = phone.get_by_test_id("offline-account")
    expect(card).to_have_count(1)
    expect(card.get_by_test_id("offline-balance")).to_have_text("1,000.00\u00a0EUR")
    shot("offline")

    transfers_before = Transaction.objects.count()
    queue_transfer(phone, bob_account.iban, "25.50", "Offline rent")
    item = phone.get_by_test_id("outbox-item")
    expect(item).to_have_count(1)
    expect(item.get_by_test_id("outbox-status")).to_contain_text("Queued")
    shot("queued")
    assert Transaction.objects.count() == transfers_before  # nothing left the phone yet

    pixel.set_offline(False)

    # Back online the offline page gives way to the accounts page, which sends the transfer and
    # shows the new balance.
    expect(phone).to_have_url("/app/")
    expect(phone.get_by_test_id("account-balance")).to_contain_text("974.50")
    expect(phone.get_by_test_id("outbox-item").get_by_test_id("outbox-status")).to_have_text("Posted")
    expect(phone.get_by_test_id("offline-banner")).to_be_hidden()
    phone.evaluate(OUTBOX_READY)
    shot("posted")

    # Posted exactly once, as the API tells it.
    api = api_for(alice)
    account = api.get(f"/api/v1/accounts/{alice_account.pk}/").json()
    assert account["balance"] == "974.50"
    entries = api.get(f"/api/v1/accounts/{alice_account.pk}/entries/", {"q": "Offline rent"}).json()["results"]
    assert [(entry["amount"], entry["reference"]) for entry in entries] == [("-25.50", "Offline rent")]
    assert Transaction.objects.filter(reference="Offline rent").count() == 1
    assert Account.objects.get(pk=bob_account.pk).balance == 525_50
    assert IdempotencyKey.objects.filter(user=alice).count() == 1


def test_a_lost_answer_is_replayed_without_moving_money_twice(phone: Page, pixel: BrowserContext, alice,
                                                              alice_account, bob_account, shot):
    signed_in_and_synced(phone, "alice")
    phone.goto("/app/offline/")  # the page that hosts the outbox form
    phone.evaluate(OUTBOX_READY)
    lost = []

    def lose_the_answer(route: Route) -> None:
        # The transfer reaches the server and is posted, but its answer never reaches the phone.
        route.fetch()
        lost.append(route.request.headers["idempotency-key"])
        route.abort("connectionreset")

    phone.route("**/api/v1/transfers/", lose_the_answer)
    # The offline page cannot sign requests: queue there, then replay from a customer page.
    queue_transfer(phone, bob_account.iban, "10.00", "Lost answer")
    expect(phone.get_by_test_id("outbox-status")).to_contain_text("Queued")
    phone.goto("/app/")
    phone.evaluate(OUTBOX_READY)
    assert len(lost) == 1
    expect(phone.get_by_test_id("outbox-status")).to_contain_text("Queued")
    assert Transaction.objects.filter(reference="Lost answer").count() == 1  # it did move, once

    phone.unroute("**/api/v1/transfers/")
    # The replay (what the `online` event or the next start does) gets the first answer back; the
    # accounts page then reloads itself to show the balances.
    with phone.expect_navigation():
        phone.evaluate(f"() => {{ {OUTBOX}.then((outbox) => outbox.replayOutbox()); }}")
    phone.evaluate(OUTBOX_READY)
    expect(phone.get_by_test_id("account-balance")).to_contain_text("990.00")
    expect(phone.get_by_test_id("outbox-status")).to_have_text("Posted")
    shot("replayed")

    assert Transaction.objects.filter(reference="Lost answer").count() == 1
    assert Entry.objects.filter(account=alice_account, transaction__reference="Lost answer").count() == 1
    assert Account.objects.get(pk=alice_account.pk).balance == 990_00
    assert IdempotencyKey.objects.filter(user=alice, key=lost[0]).count() == 1


def test_the_transfer_form_queues_while_offline(phone: Page, pixel: BrowserContext, alice, alice_account,
                                                bob_account, shot):
    signed_in_and_synced(phone, "alice")
    phone.goto("/app/transfer/")
    phone.evaluate(OUTBOX_READY)
    questions = []
    phone.on("dialog", lambda dialog: (questions.append(dialog.message), dialog.accept()))

    pixel.set_offline(True)
    form = phone.get_by_test_id("transfer-form")
    form.get_by_label("Another IBAN").check()
    form.get_by_label("IBAN", exact=True).fill(bob_account.iban)
    form.get_by_label("Amount").fill("7.25")
    form.get_by_label("Reference (optional)").fill("Queued from the form")
    form.get_by_role("button", name="Continue").click()

    expect(phone.get_by_test_id("outbox-status")).to_contain_text("Queued")
    assert questions and "7.25" in questions[0]
    shot("queued-from-form")
    assert not Transaction.objects.filter(reference="Queued from the form").exists()

    pixel.set_offline(False)
    expect(phone.get_by_test_id("account-balance")).to_contain_text("992.75")
    expect(phone.get_by_test_id("outbox-status")).to_have_text("Posted")
    assert Transaction.objects.filter(reference="Queued from the form").count() == 1

def test_the_transfer_form_queues_a_transfer_to_an_own_account_while_offline(
        phone: Page, pixel: BrowserContext, open_account, alice, alice_account, shot):
    savings = open_account(alice, kind="savings")
    signed_in_and_synced(phone, "alice")
    phone.goto("/app/transfer/")
    phone.evaluate(OUTBOX_READY)
    phone.on("dialog", lambda dialog: dialog.accept())

    pixel.set_offline(True)
    form = phone.get_by_test_id("transfer-form")
    form.get_by_label("One of my accounts").check()
    form.get_by_label("My account", exact=True).select_option(str(savings.pk))
    form.get_by_label("Amount").fill("3.50")
    form.get_by_label("Reference (optional)").fill("To my savings, offline")
    form.get_by_role("button", name="Continue").click()

    expect(phone.get_by_test_id("outbox-status")).to_contain_text("Queued")
    assert not Transaction.objects.filter(reference="To my savings, offline").exists()

    pixel.set_offline(False)
    expect(phone.get_by_test_id("outbox-status")).to_have_text("Posted")
    [transfer] = Transaction.objects.filter(reference="To my savings, offline")
    savings.refresh_from_db()
    assert savings.balance == 350


STORED_ACCOUNTS = """() => new Promise((resolve, reject) => {
  const opening = indexedDB.open("flux");
  opening.onerror = () => reject(opening.error);
  opening.onsuccess = () => {
    const counting = opening.result.transaction("accounts").objectStore("accounts").count();
    counting.onsuccess = () => resolve(counting.result);
  };
})"""

# True once the worker's cached offline page is in French (false after 15 s). An async loop run by
# evaluate(): wait_for_function() does not wait for a returned Promise to answer true (it returns
# on a Promise of false), so it let the test go offline before the French shell was stored.
# caches.match() looks in every cache, so the worker's VERSION is not repeated here.
FRENCH_SHELL_CACHED = """async () => {
  for (let waited = 0; waited < 15000; waited += 100) {
    const response = await caches.match("/app/offline/");
    if (response && (await response.text()).includes('<html lang="fr"')) return true;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return false;
}"""


def test_in_french_offline_and_signing_out_forgets_the_data(phone: Page, pixel: BrowserContext, alice,
                                                            alice_account, shot):
    signed_in_and_synced(phone, "alice")
    open_menu(phone)
    phone.get_by_test_id("language-switcher").get_by_role("button", name="Français").click()
    expect(phone.get_by_role("heading", name="Vos comptes", level=1)).to_be_visible()
    phone.evaluate(OUTBOX_READY)
    # The worker's offline page follows the language.
    assert phone.evaluate(FRENCH_SHELL_CACHED)

    pixel.set_offline(True)
    phone.reload()

    expect(phone.get_by_test_id("offline-banner")).to_contain_text("Hors ligne — dernière synchronisation à")
    expect(phone.get_by_test_id("offline-balance")).to_have_text(re.compile(r"^1\s000,00\sEUR$"))
    shot("offline-fr")

    pixel.set_offline(False)
    expect(phone.get_by_test_id("account-balance")).to_be_visible()  # the real page is back
    phone.evaluate(OUTBOX_READY)
    assert phone.evaluate(STORED_ACCOUNTS) == 1
    open_menu(phone)
    phone.get_by_role("button", name="Se déconnecter").click()
    expect(phone.get_by_role("heading", name="Se connecter à Flux")).to_be_visible()
    assert phone.evaluate(STORED_ACCOUNTS) == 0
