"""Rate limits (DRF throttling): per user when signed in, per client address when not, a stricter
rate on the token endpoints, and 429 `throttled` with Retry-After in the error shape. Each test
would fail with throttling switched off (DEFAULT_THROTTLE_CLASSES emptied or the auth scope gone).

The test settings raise every rate out of reach; these tests set small ones on the throttle class
(DRF reads its rates once, at import) and clear the cache the counts live in. Each test that sets
rates runs twice: counting in local memory (development, tests) and in a real Redis (production,
REDIS_URL), the two places core/api/throttling.py counts."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest
from django.conf import settings
from django.core.cache import cache
from rest_framework.test import APIClient
from rest_framework.throttling import SimpleRateThrottle

from banking.tests.support import transfer
from core.testing.api import API, assert_error
from core.testing.redis import redis_cache_settings
from core.testing.users import TEST_PASSWORD

pytestmark = pytest.mark.django_db

TOKEN = f"{API}auth/token/"
REFRESH = f"{API}auth/token/refresh/"
SCHEMA = f"{API}schema/"


@pytest.fixture(params=["locmem", "redis"])
def counting_cache(request, settings):
    """The cache the counts live in: local memory (the test settings') or a real Redis."""
    if request.param == "redis":
        settings.CACHES = redis_cache_settings(request.getfixturevalue("redis_server").url)
    return request.param


@pytest.fixture
def rates(monkeypatch, counting_cache):
    """Set the rates for one test: rates(user="3/min", ...); unnamed scopes stay out of reach."""
    cache.clear()

    def set_rates(**wanted: str) -> None:
        monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES",
                            {"user": "1000/min", "anon": "1000/min", "auth": "1000/min"} | wanted)

    yield set_rates
    cache.clear()


def sign_in(client: APIClient, username: str = "alice", **extra):
    return client.post(TOKEN, {"username": username, "password": TEST_PASSWORD}, format="json", **extra)


def test_a_signed_in_user_is_throttled_past_their_rate_and_others_are_not(
    rates, api_client_for, alice, bob
):
    as_alice, as_bob = api_client_for(alice), api_client_for(bob)
    rates(user="3/min")
    for _ in range(3):
        assert as_alice.get(f"{API}me/").status_code == 200
    response = as_alice.get(f"{API}me/")
    body = assert_error(response, 429, "throttled")
    assert "available in" in body["message"]
    assert 1 <= int(response["Retry-After"]) <= 60  # seconds until the oldest request leaves the minute
    assert as_bob.get(f"{API}me/").status_code == 200


def test_a_throttled_transfer_moves_nothing(rates, api_client_for, alice, alice_account, bob_account,
                                            api_unchanged):
    client = api_client_for(alice)
    rates(user="1/min")
    assert client.get(f"{API}me/").status_code == 200
    with api_unchanged():
        assert_error(transfer(client, alice_account, bob_account, "5.00"), 429, "throttled")


def test_anonymous_callers_are_counted_per_address(rates, db):
    rates(anon="2/min")
    here, there = APIClient(REMOTE_ADDR="10.0.0.1"), APIClient(REMOTE_ADDR="10.0.0.2")
    for _ in range(2):
        assert here.get(SCHEMA).status_code == 200
    assert_error(here.get(SCHEMA), 429, "throttled")
    assert there.get(SCHEMA).status_code == 200


def test_a_forged_forwarded_for_header_does_not_reset_the_count(rates, db):
    rates(anon="2/min")
    client = APIClient(REMOTE_ADDR="10.0.0.1")
    for n in range(2):
        assert client.get(SCHEMA, HTTP_X_FORWARDED_FOR=f"192.0.2.{n}").status_code == 200
    assert_error(client.get(SCHEMA, HTTP_X_FORWARDED_FOR="192.0.2.99"), 429, "throttled")


def test_behind_a_trusted_proxy_the_forwarded_address_counts(rates, db, monkeypatch):
    from rest_framework.settings import api_settings

    monkeypatch.setattr(api_settings, "NUM_PROXIES", 1)
    rates(anon="1/min")
    proxy = APIClient(REMOTE_ADDR="10.0.0.254")
    assert proxy.get(SCHEMA, HTTP_X_FORWARDED_FOR="203.0.113.7").status_code == 200
    assert_error(proxy.get(SCHEMA, HTTP_X_FORWARDED_FOR="203.0.113.7"), 429, "throttled")
    assert proxy.get(SCHEMA, HTTP_X_FORWARDED_FOR="203.0.113.8").status_code == 200


def test_the_token_endpoints_have_their_own_stricter_rate(rates, alice):
    rates(auth="2/min", anon="100/min")
    client = APIClient(REMOTE_ADDR="10.0.0.3")
    pair = sign_in(client).json()
    assert client.post(REFRESH, {"refresh": pair["refresh"]}, format="json").status_code == 200
    response = sign_in(client)
    assert_error(response, 429, "throttled")
    assert int(response["Retry-After"]) >= 1
    # The rest of the API still answers this address (the auth count is its own).
    assert client.get(SCHEMA).status_code == 200


def test_a_throttled_sign_in_is_not_a_failed_attempt(rates, alice):
    from axes.models import AccessAttempt

    rates(auth="1/min")
    client = APIClient(REMOTE_ADDR="10.0.0.4")
    assert sign_in(client).status_code == 200
    for _ in range(settings.FLUX_LOCKOUT_FAILURES + 1):
        assert_error(client.post(TOKEN, {"username": "alice", "password": "wrong"}, format="json"),
                     429, "throttled")
    assert not AccessAttempt.objects.exists()


def test_the_rates_come_from_the_environment():
    """FLUX_THROTTLE_* (DESIGN.md, "Running") reach DRF's rates, and the auth rate is the strictest
    by default."""
    code = ("import django, json; django.setup(); from django.conf import settings; "
            "print(json.dumps(settings.REST_FRAMEWORK['DEFAULT_THROTTLE_RATES']))")
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "project.settings.dev", "FLUX_THROTTLE_USER": "11/min",
           "FLUX_THROTTLE_ANON": "12/hour", "FLUX_THROTTLE_AUTH": "13/second", "FLUX_THROTTLE_PAYEE_CHECK": "14/min",
           "FLUX_LOG_SHIPPING": "0"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == (
        '{"user": "11/min", "anon": "12/hour", "auth": "13/second", "payee_check": "14/min"}'
    )

    for name in ("FLUX_THROTTLE_USER", "FLUX_THROTTLE_ANON", "FLUX_THROTTLE_AUTH", "FLUX_THROTTLE_PAYEE_CHECK"):
        env.pop(name)
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    import json

    defaults = {scope: SimpleRateThrottle.parse_rate(None, rate) for scope, rate in
                json.loads(out.stdout.strip().splitlines()[-1]).items()}
    per_minute = {scope: num * 60 / period for scope, (num, period) in defaults.items()}
    assert per_minute["auth"] < per_minute["anon"] < per_minute["user"]
    # The payee check: a person typing, never a scan of who holds which IBAN (banking/payees.py).
    assert per_minute["payee_check"] <= per_minute["auth"]


def test_password_changes_are_held_to_the_sign_in_rate(rates, api_client_for, alice):
    client = api_client_for(alice)
    rates(auth="2/min")
    for _ in range(2):
        assert_error(client.post(f"{API}me/password/", {"old_password": "guess-1234567", "new_password": "x"},
                                 format="json"), 400, "validation_error")
    response = client.post(f"{API}me/password/", {"old_password": TEST_PASSWORD,
                                                  "new_password": "a-much-longer-secret-42"}, format="json")
    assert_error(response, 429, "throttled")
    assert alice.__class__.objects.get(pk=alice.pk).check_password(TEST_PASSWORD)


def test_concurrent_requests_are_each_counted_once(counting_cache):
    """The count is one atomic increment: 8 threads (each its own Redis connection, as separate
    worker processes have) counting 40 requests each on one key see every count from 1 to 320
    exactly once, so exactly `rate` of them are let through. A read-then-write count (DRF's
    history) loses increments here."""
    from concurrent.futures import ThreadPoolExecutor

    from core.api.throttling import count_hit

    cache.clear()
    key = "throttle_test_concurrency"
    with ThreadPoolExecutor(max_workers=8) as pool:
        counts = list(pool.map(lambda _: count_hit(key, 60)[0], range(320)))
    assert sorted(counts) == list(range(1, 321))
    cache.clear()


def test_worker_processes_share_one_count_in_redis(settings, redis_server):
    """Worker processes share nothing but Redis: four processes (started afresh, as gunicorn's
    workers are, with the settings of REDIS_URL) counting 40 requests each on one key see every
    count from 1 to 160 exactly once, and the key holds Redis's own integer (INCR), not a value
    read and written back (which two processes interleave and lose counts)."""
    import json

    key = "throttle_test_processes"
    settings.CACHES = redis_cache_settings(redis_server.url)
    cache.clear()
    code = ("import django, json; django.setup(); from core.api.throttling import count_hit; "
            f"print(json.dumps([count_hit({key!r}, 60)[0] for _ in range(40)]))")
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "project.settings.dev", "REDIS_URL": redis_server.url,
           "FLUX_LOG_SHIPPING": "0"}
    workers = [subprocess.Popen([sys.executable, "-c", code], env=env, stdout=subprocess.PIPE, text=True)
               for _ in range(4)]
    counts = [count for worker in workers for count in json.loads(worker.communicate(timeout=60)[0].splitlines()[-1])]
    assert all(worker.returncode == 0 for worker in workers)
    assert sorted(counts) == list(range(1, 161))
    client = cache.client.get_client(write=False)
    assert client.get(cache.make_and_validate_key(key)) == b"160"
    assert 0 < client.ttl(cache.make_and_validate_key(key)) <= 60
    cache.clear()


def test_the_window_ends_and_says_when(counting_cache):
    from core.api.throttling import count_hit

    cache.clear()
    count, left = count_hit("throttle_test_window", 1)
    assert count == 1 and 0 < left <= 1
    assert count_hit("throttle_test_window", 1)[0] == 2
    time.sleep(1.1)
    assert count_hit("throttle_test_window", 1)[0] == 1  # a new window
    cache.clear()


def test_an_unreachable_redis_lets_requests_through(settings, api_client_for, alice, monkeypatch):
    """A rate limit never takes the API down: with Redis gone, requests are served (and a warning
    logged) instead of failing."""
    from core.testing.nats import free_port

    client = api_client_for(alice)
    settings.CACHES = redis_cache_settings(f"redis://127.0.0.1:{free_port()}/0")  # nothing listens
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", {"user": "1/min", "anon": "1/min", "auth": "1/min"})
    for _ in range(3):
        assert client.get(f"{API}me/").status_code == 200


def test_the_counts_live_in_redis_with_redis_url_and_never_in_the_database():
    """REDIS_URL selects django-redis; without it, local memory; no settings module uses the
    database cache (its SELECT COUNT(*) per write was on every API request). The test settings
    always count in memory (tests clear the cache)."""
    code = ("import importlib, os; settings = importlib.import_module(os.environ['DJANGO_SETTINGS_MODULE']); "
            "print(settings.CACHES['default']['BACKEND'])")
    base_env = {**os.environ, "FLUX_NUM_PROXIES": "0",
                "SECRET_KEY": "a-long-and-varied-secret-key-for-this-settings-test-0123456789"}
    base_env.pop("REDIS_URL", None)
    locmem, redis = "django.core.cache.backends.locmem.LocMemCache", "django_redis.cache.RedisCache"
    for module, with_redis in (("project.settings.dev", redis), ("project.settings.prod", redis),
                               ("project.settings.test", locmem)):
        for redis_url, expected in ((None, locmem), ("redis://127.0.0.1:6379/6", with_redis)):
            env = {**base_env, "DJANGO_SETTINGS_MODULE": module} | ({"REDIS_URL": redis_url} if redis_url else {})
            out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
            assert out.stdout.strip().splitlines()[-1] == expected, (module, redis_url)
