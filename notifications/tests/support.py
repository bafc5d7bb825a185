"""Audit events as the notifier reads them off the stream (audit.nats.event_payload), taken from
the database after the services wrote them; the notifier process started and watched on a test
nats-server (core.testing.nats)."""

from __future__ import annotations

import asyncio
import json
from concurrent.futures import ThreadPoolExecutor

from django.conf import settings
from nats.js.errors import NotFoundError

from audit.models import AuditEvent
from audit.nats import event_payload
from audit.tests.support import jetstream
from core.testing.nats import wait_until


def events_after(event_id: int = 0) -> list[dict]:
    return [json.loads(event_payload(event)) for event in AuditEvent.objects.filter(pk__gt=event_id).order_by("pk")]


def last_event_id() -> int:
    return AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def notifier_subscribed(url: str, **login) -> bool:
    """Its durable consumer exists: every event published from now on is delivered to it."""

    async def check(js):
        try:
            await js.consumer_info(settings.FLUX_AUDIT_STREAM, settings.FLUX_NOTIFIER_CONSUMER)
        except NotFoundError:
            return False
        return True

    return jetstream(url, check, **login)


def notifier_idle(url: str) -> bool:
    """Everything in the stream delivered to the notifier and acked."""

    async def check(js):
        info = await js.consumer_info(settings.FLUX_AUDIT_STREAM, settings.FLUX_NOTIFIER_CONSUMER)
        return info.num_pending == 0 and info.num_ack_pending == 0

    return jetstream(url, check)


def notifier_fetching(server) -> bool:
    """A notifier process is connected and waiting for messages (its pull request is open)."""
    connected = any(c.get("name") == "flux-notifier" for c in server.monitor("/connz").get("connections") or [])
    if not connected or not notifier_subscribed(server.url):
        return False

    async def waiting(js):
        info = await js.consumer_info(settings.FLUX_AUDIT_STREAM, settings.FLUX_NOTIFIER_CONSUMER)
        return (info.num_waiting or 0) > 0

    return jetstream(server.url, waiting)


def start_notifier(pipeline, server, **env: str):
    """`manage.py run_notifier` (core.testing.nats's `pipeline`), returned once it is fetching."""
    process = pipeline("run_notifier", FLUX_SERVICE="notifier", FLUX_AUDIT_ACK_WAIT_SECONDS="2", **env)
    wait_until(lambda: off_the_loop(lambda: notifier_fetching(server)), timeout=30, interval=0.2,
               message="the notifier never subscribed")
    return process


def off_the_loop(check):
    """Run `check` (which runs its own event loop) in another thread when this one has a loop
    running, as Playwright's sync API keeps one in the end-to-end tests."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return check()
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(check).result()
