"""The sign-in pages' rate per client address (identity/throttling.py): /login/ and /admin/login/
count every POST against FLUX_THROTTLE_AUTH on the API token endpoint's counter; past it, a 429
page with Retry-After, and the attempt is not even checked. And the address that counts (and that
django-axes records) is the one FLUX_NUM_PROXIES designates (core/http.py).

The test settings raise every rate out of reach; these tests set small ones on DRF's throttle class
(read when a throttle is made) and clear the cache the counts live in."""

from __future__ import annotations

import re

import pytest
from axes.models import AccessAttempt
from django.core.cache import cache
from django.test import Client
from rest_framework.settings import api_settings
from rest_framework.test import APIClient
from rest_framework.throttling import SimpleRateThrottle

from audit.models import AuditEvent
from core.testing.users import TEST_PASSWORD
from identity.models import User

LOGIN = "/login/"
ADMIN_LOGIN = "/admin/login/"
TOKEN = "/api/v1/auth/token/"

pytestmark = pytest.mark.django_db


@pytest.fixture
def auth_rate(monkeypatch):
    """auth_rate("3/min"): the sign-in rate for one test; the other scopes stay out of reach."""
    cache.clear()

    def set_rate(rate: str) -> None:
        rates = {"user": "1000/min", "anon": "1000/min", "auth": rate}
        monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", rates)

    yield set_rate
    cache.clear()


def attempt(client: Client, password: str = "wrong-password", url: str = LOGIN, username: str = "alice"):
    return client.post(url, {"username": username, "password": password})


def state(user: User) -> dict:
    """What a sign-in, refused or not, could change."""
    user.refresh_from_db()
    return {
        "last_login": user.last_login,
        "attempts": list(AccessAttempt.objects.values_list("username", "ip_address", "failures_since_start")),
        "events": list(AuditEvent.objects.order_by("pk").values_list("pk", "action")),
    }


def assert_too_many_attempts(response) -> int:
    assert response.status_code == 429
    seconds = int(response["Retry-After"])
    assert 1 <= seconds <= 60
    html = response.content.decode()
    assert "Too many sign-in attempts" in html
    assert re.search(rf"Try again in {seconds} seconds?\.", html), html
    assert 'href="/login/' in html or 'href="/admin/login/' in html  # the way back
    return seconds


def test_past_the_rate_an_address_gets_the_429_page_and_is_not_signed_in(client, alice, auth_rate):
    auth_rate("3/min")
    for _ in range(3):
        assert "Wrong username or password." in attempt(client).content.decode()
    before = state(alice)

    response = attempt(client, TEST_PASSWORD)  # the right password, over the rate

    assert_too_many_attempts(response)
    assert "_auth_user_id" not in client.session
    assert "sessionid" not in response.cookies
    assert state(alice) == before  # no sign-in, no failure counted against alice, nothing audited


def test_another_address_still_signs_in(alice, auth_rate):
    auth_rate("2/min")
    here = Client(REMOTE_ADDR="10.0.0.1")
    for _ in range(2):
        attempt(here)
    assert attempt(here, TEST_PASSWORD).status_code == 429

    there = Client(REMOTE_ADDR="10.0.0.2")
    response = attempt(there, TEST_PASSWORD)

    assert response.status_code == 302
    assert int(there.session["_auth_user_id"]) == alice.pk


def test_the_form_itself_is_not_an_attempt(client, db, auth_rate):
    auth_rate("1/min")
    for _ in range(5):
        assert client.get(LOGIN).status_code == 200
    assert attempt(client).status_code == 200
    assert attempt(client).status_code == 429
    assert client.get(LOGIN).status_code == 200  # the form still shows


def test_the_admin_sign_in_page_is_held_to_the_rate_too(sam, auth_rate):
    auth_rate("2/min")
    client = Client(REMOTE_ADDR="10.0.0.3")
    for _ in range(2):
        assert attempt(client, url=ADMIN_LOGIN, username="sam").status_code == 200
    before = state(sam)

    response = attempt(client, TEST_PASSWORD, url=ADMIN_LOGIN, username="sam")

    assert_too_many_attempts(response)
    assert "_auth_user_id" not in client.session
    assert state(sam) == before


def test_the_pages_and_the_token_endpoint_share_one_count_per_address(alice, auth_rate):
    auth_rate("3/min")
    page = Client(REMOTE_ADDR="10.0.0.4")
    api = APIClient(REMOTE_ADDR="10.0.0.4")

    assert attempt(page).status_code == 200
    assert attempt(page, url=ADMIN_LOGIN).status_code == 200
    assert api.post(TOKEN, {"username": "alice", "password": "wrong"}, format="json").status_code == 401

    assert attempt(page, TEST_PASSWORD).status_code == 429
    api_refusal = api.post(TOKEN, {"username": "alice", "password": TEST_PASSWORD}, format="json")
    assert api_refusal.status_code == 429 and api_refusal.json()["error"]["code"] == "throttled"


def test_the_token_endpoint_counting_first_leaves_the_page_working(alice, auth_rate):
    """The API counts first, then the page reads the same counter (it once read it in another format
    and answered 500)."""
    auth_rate("3/min")
    page = Client(REMOTE_ADDR="10.0.0.5")
    api = APIClient(REMOTE_ADDR="10.0.0.5")

    assert api.post(TOKEN, {"username": "alice", "password": "wrong"}, format="json").status_code == 401
    assert attempt(page).status_code == 200
    assert attempt(page, url=ADMIN_LOGIN).status_code == 200
    before = state(alice)
    assert_too_many_attempts(attempt(page, TEST_PASSWORD))
    assert state(alice) == before


def test_the_429_page_speaks_french(client, db, auth_rate):
    auth_rate("1/min")
    attempt(client)

    response = client.post(LOGIN, {"username": "x", "password": "y"}, headers={"Accept-Language": "fr"})

    assert response.status_code == 429
    assert '<html lang="fr"' in response.content.decode()


def test_an_hourly_rate_says_minutes(client, db, auth_rate):
    auth_rate("1/hour")
    attempt(client)

    response = attempt(client)

    assert response.status_code == 429
    seconds = int(response["Retry-After"])
    assert 3500 < seconds <= 3600
    assert "Try again in 60 minutes." in response.content.decode()


# --- Which address counts ---------------------------------------------------------------------------


def test_without_proxies_a_forwarded_for_header_changes_nothing(db, auth_rate):
    auth_rate("2/min")
    client = Client(REMOTE_ADDR="10.0.0.5")
    for n in range(2):
        client.post(LOGIN, {"username": f"x{n}", "password": "y"}, headers={"X-Forwarded-For": f"192.0.2.{n}"})

    response = client.post(LOGIN, {"username": "x", "password": "y"}, headers={"X-Forwarded-For": "192.0.2.99"})

    assert response.status_code == 429
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"10.0.0.5"}


def test_behind_one_proxy_the_address_it_saw_counts_and_is_recorded(db, auth_rate, monkeypatch):
    monkeypatch.setattr(api_settings, "NUM_PROXIES", 1)
    auth_rate("1/min")
    proxy = Client(REMOTE_ADDR="10.0.0.254")

    # The client wrote 6.6.6.6 itself; the proxy appended the address it saw.
    first = proxy.post(LOGIN, {"username": "x1", "password": "y"}, headers={"X-Forwarded-For": "6.6.6.6, 203.0.113.7"})
    again = proxy.post(LOGIN, {"username": "x2", "password": "y"}, headers={"X-Forwarded-For": "7.7.7.7, 203.0.113.7"})
    other = proxy.post(LOGIN, {"username": "x3", "password": "y"}, headers={"X-Forwarded-For": "203.0.113.8"})

    assert (first.status_code, again.status_code, other.status_code) == (200, 429, 200)
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"203.0.113.7", "203.0.113.8"}
