"""`make serve`: the production configuration started as a newcomer starts it (DESIGN.md,
"Running"), probed, then stopped. It runs migrate and collectstatic, then web (two workers),
relay, consumer, scheduler and notifier under honcho, on the test database and a test nats-server."""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings
from nats.js.errors import NotFoundError

from audit.models import AuditLogRecord
from audit.tests.support import jetstream
from banking.models import Account
from core.testing.nats import database_url_for_subprocess, free_port, wait_until
from core.testing.users import TEST_PASSWORD
from notifications.models import Notification, NotificationKind

BASE_DIR = Path(settings.BASE_DIR)
REQUIRED = ("SECRET_KEY", "ALLOWED_HOSTS", "FLUX_NUM_PROXIES", "DATABASE_URL", "NATS_URL")


def clean_environment() -> dict[str, str]:
    """This machine's environment without any of Flux's own settings (the test's included)."""
    return {name: value for name, value in os.environ.items()
            if not name.startswith(("FLUX_", "NATS_", "DJANGO_", "PROMETHEUS_")) and name not in (
                *REQUIRED, "PORT", "REDIS_URL", "LOG_FORMAT", "WEB_CONCURRENCY", "STATIC_ROOT")}


def test_make_serve_refuses_to_start_without_its_environment():
    result = subprocess.run(["bin/serve"], cwd=BASE_DIR, env=clean_environment(), capture_output=True,
                            text=True, timeout=30)
    assert result.returncode == 64
    for name in REQUIRED:
        assert f"make serve: set {name}:" in result.stderr
    assert "nothing was started" in result.stderr
    # One missing is enough to refuse, and is named alone.
    partial = clean_environment() | {"SECRET_KEY": "x" * 60, "ALLOWED_HOSTS": "localhost", "FLUX_NUM_PROXIES": "0",
                                     "DATABASE_URL": "postgres://nowhere/flux"}
    result = subprocess.run(["bin/serve"], cwd=BASE_DIR, env=partial, capture_output=True, text=True, timeout=30)
    assert result.returncode == 64
    [refusal] = [line for line in result.stderr.splitlines() if line.startswith("make serve: set")]
    assert refusal.startswith("make serve: set NATS_URL:")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # a redirect is the answer itself


OPENER = urllib.request.build_opener(_NoRedirect)


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
        return True
    except ProcessLookupError:
        return False


def stop_group(serve: subprocess.Popen) -> None:
    """SIGTERM to make and every process it started, then wait until the last one is gone (make
    can exit before honcho's children have finished): the test database is flushed right after,
    and a relay or scheduler still writing would deadlock the flush. SIGKILL after 30 s."""
    os.killpg(serve.pid, signal.SIGTERM)
    try:
        serve.wait(timeout=30)
        wait_until(lambda: not group_alive(serve.pid), timeout=30, interval=0.2, message="make serve did not stop")
    except (subprocess.TimeoutExpired, AssertionError, pytest.fail.Exception):
        if group_alive(serve.pid):
            os.killpg(serve.pid, signal.SIGKILL)
        serve.wait()


def get(url: str, *, headers: dict[str, str] | None = None, data: dict | None = None) -> tuple[int, dict, str]:
    body = json.dumps(data).encode() if data is not None else None
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with OPENER.open(request, timeout=10) as answer:
            return answer.status, {k.lower(): v for k, v in answer.headers.items()}, answer.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, {k.lower(): v for k, v in error.headers.items()}, error.read().decode()


def notifier_subscribed(url: str) -> bool:
    async def check(js):
        try:
            return bool(await js.consumer_info(settings.FLUX_AUDIT_STREAM, settings.FLUX_NOTIFIER_CONSUMER))
        except NotFoundError:
            return False

    return jetstream(url, check)


@pytest.mark.django_db(transaction=True)
def test_make_serve_runs_every_process_in_production_and_stops(nats_server, alice, alice_account, bob_account,
                                                               settings):
    # The tests hash with MD5 for speed; production verifies with Argon2 and PBKDF2 only.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.PBKDF2PasswordHasher"]
    alice.set_password(TEST_PASSWORD)
    alice.save(update_fields=["password"])
    port, relay_port, consumer_port, scheduler_port, notifier_port = (free_port() for _ in range(5))
    token = secrets.token_urlsafe(24)
    env = clean_environment() | {
        "SECRET_KEY": secrets.token_urlsafe(60),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "FLUX_NUM_PROXIES": "0",
        "DATABASE_URL": database_url_for_subprocess(),
        "NATS_URL": nats_server.url,
        "PORT": str(port),
        "WEB_CONCURRENCY": "2",
        "STATIC_ROOT": tempfile.mkdtemp(prefix="flux-static-"),
        "FLUX_METRICS_TOKEN": token,
        "FLUX_RELAY_METRICS_PORT": str(relay_port),
        "FLUX_CONSUMER_METRICS_PORT": str(consumer_port),
        "FLUX_SCHEDULER_METRICS_PORT": str(scheduler_port),
        "FLUX_NOTIFIER_METRICS_PORT": str(notifier_port),
        "FLUX_AUDIT_STREAM": settings.FLUX_AUDIT_STREAM,
    }
    output = tempfile.TemporaryFile(mode="w+")
    serve = subprocess.Popen(["make", "--no-print-directory", "serve"], cwd=BASE_DIR, env=env, stdout=output,
                             stderr=subprocess.STDOUT, text=True, start_new_session=True)
    base = f"http://127.0.0.1:{port}"

    def answering() -> bool:
        if serve.poll() is not None:
            output.seek(0)
            pytest.fail(f"make serve exited ({serve.returncode}): {output.read()[-4000:]}")
        try:
            return get(f"{base}/healthz")[0] == 200
        except OSError:
            return False

    try:
        wait_until(answering, timeout=120, interval=0.5, message="make serve did not answer /healthz")
        status, headers, body = get(f"{base}/readyz")
        assert status == 200, body
        assert json.loads(body)["status"] == "ok"
        assert headers["x-request-id"]

        assert get(f"{base}/metrics")[0] == 401
        status, _headers, text = get(f"{base}/metrics", headers={"Authorization": f"Bearer {token}"})
        assert status == 200 and 'flux_http_requests_total{method="GET",route="healthz",status="200"}' in text
        # Production: plain HTTP pages go to HTTPS; the probes above were exempt.
        assert get(f"{base}/login/")[0] == 301

        # The notifier's durable consumer exists (it takes the events published from then on).
        wait_until(lambda: notifier_subscribed(nats_server.url), timeout=30, interval=0.5,
                   message="the notifier never subscribed to the AUDIT stream")
        # A transfer over the API, found by its request id in the audit log (relay and consumer),
        # and in bob's notifications (notifier).
        status, _headers, body = get(f"{base}/api/v1/auth/token/", data={"username": alice.username,
                                                                          "password": TEST_PASSWORD},
                                     headers={"X-Forwarded-Proto": "https"})
        assert status == 200, body
        access = json.loads(body)["access"]
        status, headers, body = get(
            f"{base}/api/v1/transfers/",
            data={"source_account": alice_account.pk, "destination_iban": bob_account.iban, "amount": "3.00"},
            headers={"Authorization": f"Bearer {access}", "Idempotency-Key": secrets.token_hex(8),
                     "X-Request-ID": "serve-transfer-1", "X-Forwarded-Proto": "https"},
        )
        assert status == 201, body
        assert headers["x-request-id"] == "serve-transfer-1"
        wait_until(lambda: AuditLogRecord.objects.filter(data__request_id="serve-transfer-1").exists(), timeout=30,
                   message="the transfer's audit event never reached the audit log")
        assert Account.objects.get(pk=bob_account.pk).balance == bob_account.balance + 3_00
        wait_until(lambda: Notification.objects.filter(customer=bob_account.customer,
                                                      kind=NotificationKind.MONEY_IN).exists(),
                   timeout=30, message="the notifier never told bob that money arrived")

        scheduled = 'flux_scheduler_runs_total{job="expire_pending",outcome="done"}'
        for metrics_port, series in ((relay_port, "flux_audit_events_published_total"),
                                     (consumer_port, "flux_audit_events_stored_total"), (scheduler_port, scheduled),
                                     (notifier_port, "flux_notifications_written_total 1.0")):
            status, _headers, text = get(f"http://127.0.0.1:{metrics_port}/metrics")
            assert status == 200 and series in text, (metrics_port, text[-2000:])
    finally:
        stop_group(serve)
        output.seek(0)
        log = output.read()
        output.close()
        print(f"--- make serve ---\n{log[-6000:]}")
    # Every process is gone: nothing answers any more.
    with pytest.raises(OSError):
        get(f"{base}/healthz")
    for line in log.splitlines():
        if "| {" in line:  # an application log line: JSON with its request id
            assert "request_id" in json.loads(line.split("| ", 1)[1])
