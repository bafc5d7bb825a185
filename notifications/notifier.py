"""The notifier: a durable JetStream pull consumer of its own (FLUX_NOTIFIER_CONSUMER, "notifier")
on the AUDIT stream, which writes each customer's notifications and then announces them on core
NATS, `notify.customer.<customer id>`, for the customer's open app (notifications/live.py).

It works as the audit consumer does (audit/consumer.py): each fetched batch is checked message by
message (only what the relay signed is read; the rest is logged at ERROR and terminated), the
notifications of the whole batch are written in one transaction, each (event, customer) once
(notifications.services.notifications_store), and only after the commit is each message acked. A
batch that fails is nak'ed and comes back. Killed at any point, it loses nothing and doubles
nothing: an uncommitted batch is rolled back and redelivered; a committed but unacked one is
redelivered and finds its notifications already written. Events published while it is down wait
in its durable consumer and are processed when it is back.

The durable consumer starts, when first created, at the stream's new messages (DeliverPolicy.NEW):
deploying the notifier does not tell customers about the stream's whole history.

Announcements are core NATS, at most once, sent after the commit and the acks: a lost one costs the
open app nothing but immediacy (the page's stream reads the database on reconnection). They are
signed (audit/signing.py) and carry the notification's id, kind, title and body (in the default
language) and its facts, from which the web writes it again in its reader's language."""

from __future__ import annotations

import json
import logging

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import close_old_connections
from django.utils import translation
from nats.js import api

from audit.consumer import AuditStreamReader
from audit.signing import announcement_headers
from core.metrics import totals
from notifications.events import concerns_customers
from notifications.messages import notification_text
from notifications.metrics import NOTIFICATIONS_WRITTEN, NOTIFIER_LAG, NOTIFIER_REFUSED
from notifications.models import Notification
from notifications.services import notifications_store

logger = logging.getLogger("flux.notifications.notifier")


def notifier_consumer_config() -> api.ConsumerConfig:
    return api.ConsumerConfig(
        durable_name=settings.FLUX_NOTIFIER_CONSUMER,
        ack_policy=api.AckPolicy.EXPLICIT,
        deliver_policy=api.DeliverPolicy.NEW,
        ack_wait=settings.FLUX_AUDIT_ACK_WAIT_SECONDS,
        max_deliver=-1,
        filter_subject="audit.>",
    )


def customer_subject(customer_id: int) -> str:
    return f"{settings.FLUX_NOTIFY_SUBJECT}.{int(customer_id)}"


def announcement(notification: Notification) -> bytes:
    """The small message an open app hears: enough to show it, nothing the database does not say."""
    with translation.override(settings.LANGUAGE_CODE):
        text = notification_text(notification.kind, notification.params)
    return json.dumps({
        "id": notification.pk,
        "kind": notification.kind,
        "title": text.title,
        "body": text.body,
        # The facts, so that the web writes it again in its reader's language (notifications/live.py).
        "params": notification.params,
        "transaction": notification.transaction_id,
        "created_at": notification.created_at.isoformat(),
    }, separators=(",", ":")).encode()


def store(events: list[dict]) -> list[Notification]:
    close_old_connections()
    return notifications_store(events=events)


class Notifier(AuditStreamReader):
    name = "flux-notifier"
    doing = "notifying from"
    lag_gauge = NOTIFIER_LAG
    lag_figure = "notifier_lag"
    refused_counter = NOTIFIER_REFUSED
    log = logger

    def __init__(self, *, batch_size: int | None = None) -> None:
        super().__init__(durable=settings.FLUX_NOTIFIER_CONSUMER,
                         batch_size=batch_size or settings.FLUX_NOTIFIER_BATCH_SIZE,
                         config=notifier_consumer_config())
        self.events = 0
        self.written = 0

    async def store(self, events: list[dict]) -> list[Notification]:
        """The notifications of the batch, in one transaction (none when no event concerns a customer)."""
        if not any(concerns_customers(event) for event in events):
            return []
        return await sync_to_async(store)(events)

    async def committed(self, nc, events: list[dict], written: list[Notification]) -> None:
        """Count, then announce what was written to each customer's open app."""
        self.events += len(events)
        self.written += len(written)
        NOTIFICATIONS_WRITTEN.inc(len(written))
        totals["notifications_written"] += len(written)
        for notification in written:
            subject = customer_subject(notification.customer_id)
            payload = announcement(notification)
            try:
                await nc.publish(subject, payload, headers=announcement_headers(subject, payload))
            except Exception:
                logger.warning("could not announce notification %s to its customer's app", notification.pk)
