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

import asyncio
import json
import logging
import time

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import close_old_connections
from django.utils import translation
from nats.js import api

from audit.consumer import authentic_event
from audit.nats import serve_audit_stream
from audit.signing import Refused, announcement_headers
from core.metrics import figures, totals
from notifications.events import concerns_customers
from notifications.messages import notification_text
from notifications.metrics import NOTIFICATIONS_WRITTEN, NOTIFIER_LAG, NOTIFIER_REFUSED
from notifications.models import Notification
from notifications.services import notifications_store

logger = logging.getLogger("flux.notifications.notifier")

LAG_EVERY_SECONDS = 5.0


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


class Notifier:
    def __init__(self, *, batch_size: int | None = None) -> None:
        self.batch_size = batch_size or settings.FLUX_NOTIFIER_BATCH_SIZE
        self.events = 0
        self.written = 0
        self.refused = 0

    async def run(self, stop: asyncio.Event) -> None:
        async def work(nc, js, ready) -> None:
            subscription = await js.pull_subscribe(
                "audit.>",
                durable=settings.FLUX_NOTIFIER_CONSUMER,
                stream=settings.FLUX_AUDIT_STREAM,
                config=notifier_consumer_config(),
            )
            ready()
            logger.info("notifier subscribed (durable %s)", settings.FLUX_NOTIFIER_CONSUMER)
            lag_read_at = 0.0
            while not stop.is_set():
                if time.monotonic() - lag_read_at >= LAG_EVERY_SECONDS:
                    lag_read_at = time.monotonic()
                    await self.read_lag(subscription)
                try:
                    messages = await subscription.fetch(self.batch_size, timeout=1)
                except TimeoutError:  # nothing came
                    continue
                await self.handle_batch(nc, messages)

        await serve_audit_stream(name="flux-notifier", stop=stop, work=work, log=logger, doing="notifying from")

    @staticmethod
    async def read_lag(subscription) -> None:
        try:
            info = await subscription.consumer_info()
        except Exception as error:  # a metric: never a reason to stop
            logger.debug("could not read the notifier's lag: %s", error)
            return
        lag = (info.num_pending or 0) + (info.num_ack_pending or 0)
        NOTIFIER_LAG.set(lag)
        figures["notifier_lag"] = lag

    async def handle_batch(self, nc, messages: list) -> None:
        """Refuse what is not authentic, write the rest's notifications in one transaction, ack
        everything after the commit, then announce what was written."""
        events, delivered = [], []
        for message in messages:
            try:
                events.append(authentic_event(message.subject, message.data, message.headers))
            except Refused as refusal:
                await self.refuse(message, str(refusal))
                continue
            delivered.append(message)
        if not events:
            return
        written: list[Notification] = []
        if any(concerns_customers(event) for event in events):
            try:
                written = await sync_to_async(store)(events)
            except Exception:
                logger.exception("could not write the notifications of %d audit events (%s to %s); "
                                 "they will be redelivered", len(events), events[0].get("event_id"),
                                 events[-1].get("event_id"))
                for message in delivered:
                    await message.nak(delay=1)
                return
        self.events += len(events)
        self.written += len(written)
        NOTIFICATIONS_WRITTEN.inc(len(written))
        totals["notifications_written"] += len(written)
        for message in delivered:
            await message.ack()
        await nc.flush()
        for notification in written:
            subject = customer_subject(notification.customer_id)
            payload = announcement(notification)
            try:
                await nc.publish(subject, payload, headers=announcement_headers(subject, payload))
            except Exception:
                logger.warning("could not announce notification %s to its customer's app", notification.pk)

    async def refuse(self, message, reason: str) -> None:
        self.refused += 1
        NOTIFIER_REFUSED.inc()
        logger.error("refused an audit message on %s: %s", message.subject, reason)
        try:
            await message.term()
        except Exception:  # not a JetStream delivery
            logger.warning("could not terminate the refused message on %s", message.subject)
