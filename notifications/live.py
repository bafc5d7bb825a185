"""A customer's notifications, live: server-sent events fed by the notifier's core NATS
announcements on `notify.customer.<customer id>` (notifications/notifier.py), for the bell and the
notifications page of the customer's open app.

The stream subscribes to the customer's own subject only, then sends from the database what came
after the client's Last-Event-ID (the newest notification the page showed), so a reconnection
misses nothing, then each announcement. Only what the notifier signed is shown (audit/signing.py).
Titles and bodies are written in the language of the request that opened the stream. Without NATS
(`make run` without it, an outage) the stream sends what the database has, says it is paused and
ends; the browser comes back after RETRY_PAUSED_MILLISECONDS. The page itself never needs NATS: the
bell's count comes from the database."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator

from asgiref.sync import sync_to_async
from django.conf import settings
from django.utils import translation

from audit.live import HEARTBEAT, SignedAnnouncements, release_connection
from notifications.messages import notification_text
from notifications.models import Notification
from notifications.selectors import notifications_after

logger = logging.getLogger("flux.notifications.live")

RETRY_MILLISECONDS = 3000
# NATS unreachable: the browser asks again this much later (not every few seconds from every tab).
RETRY_PAUSED_MILLISECONDS = 30000
MAX_WAITING = 100


def notification_item(notification: Notification) -> dict:
    """A notification as the API and the stream show it, in the active language."""
    text = notification_text(notification.kind, notification.params)
    return {
        "id": notification.pk,
        "kind": notification.kind,
        "title": text.title,
        "body": text.body,
        "transaction": notification.transaction_id,
        "created_at": notification.created_at.isoformat(),
        "read_at": notification.read_at.isoformat() if notification.read_at else None,
    }


def announced_item(announcement: dict) -> dict:
    """An announcement as the stream shows it: written again in the active language."""
    text = notification_text(str(announcement["kind"]), announcement.get("params") or {})
    return {
        "id": int(announcement["id"]),
        "kind": str(announcement["kind"]),
        "title": text.title,
        "body": text.body,
        "transaction": announcement.get("transaction"),
        "created_at": announcement.get("created_at"),
        "read_at": None,
    }


def sse_item(item: dict) -> str:
    return f"id: {item['id']}\ndata: {json.dumps(item, separators=(',', ':'))}\n\n"


def sse_status(state: str) -> str:
    return f"event: status\ndata: {json.dumps({'state': state})}\n\n"


def parse_last_id(value: str | None) -> int:
    value = (value or "").strip()
    return int(value) if value.isdigit() and int(value) < 2**63 else 0


def _replay(customer_id: int, after_id: int, language: str) -> list[dict]:
    with translation.override(language):
        return [notification_item(n) for n in notifications_after(customer_id=customer_id, after_id=after_id)]


async def notification_stream(*, customer_id: int, after_id: int, language: str) -> AsyncIterator[str]:
    """The customer's event stream: what the database has after `after_id`, then live
    announcements, with a heartbeat comment when idle. Ends (closing its NATS connection) when NATS
    goes away or the client falls behind; the browser reconnects with Last-Event-ID."""
    yield f"retry: {RETRY_MILLISECONDS}\n\n"
    # Subscribed before the database is read: nothing committed in between is missed.
    async with SignedAnnouncements(name="flux-notification-stream",
                                   subject=f"{settings.FLUX_NOTIFY_SUBJECT}.{int(customer_id)}",
                                   label="notification stream", log=logger, max_waiting=MAX_WAITING) as announcements:
        last_sent = after_id
        for item in await sync_to_async(_replay)(customer_id, after_id, language):
            yield sse_item(item)
            last_sent = item["id"]
        await sync_to_async(release_connection)()

        if announcements.unreachable:
            yield f"retry: {RETRY_PAUSED_MILLISECONDS}\n\n" + sse_status("paused")
            return
        yield sse_status("live")
        while True:
            data = await announcements.next()
            if data is HEARTBEAT:
                yield ": heartbeat\n\n"
                continue
            if data is None:
                yield sse_status("paused")
                return
            try:
                with translation.override(language):
                    item = announced_item(json.loads(data))
            except (ValueError, KeyError, TypeError):
                logger.warning("notification stream: ignoring a malformed announcement")
                continue
            if item["id"] <= last_sent:
                continue
            yield sse_item(item)
            last_sent = item["id"]
