"""The relay: publishes committed audit events from the outbox to JetStream, then forgets them.

It publishes a batch (up to FLUX_RELAY_BATCH_SIZE events, oldest first) without waiting for each
JetStream ack in turn: every message goes out at once on the one connection (so the stream stores
them in the batch's order), then the relay waits for all their acks together, and removes from the
outbox only the events JetStream acked. The others stay there and are published again after a
reconnection.

It polls the outbox. After a batch that was not full it waits: FLUX_RELAY_SWEEP_SECONDS (0.1 s by
default) while traffic is light, so that an event waits at most that long; FLUX_RELAY_LINGER_SECONDS
(0.5 s) once a poll found at least FLUX_RELAY_LINGER_FROM events (20, about 200 a second), so that
under load events travel in batches of hundreds. Each batch costs a fixed part in the relay, the
consumer and the notifier alike (queries, a transaction, acks): at 16 clients, waiting 0.5 s
instead of 0.1 s cut the three processes' CPU and NATS's by about a third (issue 11,
docs/operations/capacity.md). A full batch is followed by the next at once. (It used to be woken
by a PostgreSQL NOTIFY sent in each event's transaction, but PostgreSQL serialises the commits of
notifying transactions behind one lock: issue 11.) When NATS is down it
retries with backoff; the outbox keeps every event meanwhile, so nothing is lost. Each publication
is signed and carries a Nats-Msg-Id made from the event id (audit/signing.py): a second publication
of the same event (a crash between publish and delete) is dropped by JetStream's de-duplication,
and the consumer is idempotent by event id anyway. Web requests never talk to NATS.
"""

from __future__ import annotations

import asyncio
import logging

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import close_old_connections
from django.db.models import F

from audit.metrics import EVENTS_PUBLISHED
from audit.models import AuditEvent, OutboxMessage
from audit.nats import audit_message, serve_audit_stream, sleep_or_stop
from audit.selectors import first_waiting_event_ids
from core.metrics import totals

logger = logging.getLogger("flux.audit.relay")

# JetStream acks a healthy batch within milliseconds; an event not acked within this stays in the outbox.
ACK_TIMEOUT_SECONDS = 5.0


def pending_events(limit: int) -> list[AuditEvent]:
    """The oldest events still in the outbox: their ids from the outbox, then the events by id
    (audit.selectors.first_waiting_event_ids: a join would read the published history too)."""
    ids = list(first_waiting_event_ids(limit).values_list("event_id", flat=True))
    return list(AuditEvent.objects.filter(pk__in=ids).order_by("id")) if ids else []


def next_batch(limit: int) -> list[AuditEvent]:
    """pending_events, on a usable connection (a long-lived process: the last may have died)."""
    close_old_connections()
    return pending_events(limit)


def forget(event_ids: list[int]) -> None:
    """JetStream has them: remove them from the outbox."""
    OutboxMessage.objects.filter(event_id__in=event_ids).delete()


def note_failed_attempts(event_ids: list[int]) -> None:
    OutboxMessage.objects.filter(event_id__in=event_ids).update(attempts=F("attempts") + 1)


def _acked(ack: asyncio.Future) -> bool:
    return ack.done() and not ack.cancelled() and ack.exception() is None


class PublishFailed(Exception):
    """JetStream did not ack every event of a batch (the acked ones are forgotten all the same)."""


class Relay:
    def __init__(self, *, batch_size: int | None = None, sweep_seconds: float | None = None,
                 linger_seconds: float | None = None, linger_from: int | None = None) -> None:
        self.batch_size = batch_size or settings.FLUX_RELAY_BATCH_SIZE
        self.sweep_seconds = sweep_seconds if sweep_seconds is not None else settings.FLUX_RELAY_SWEEP_SECONDS
        self.linger_seconds = linger_seconds if linger_seconds is not None else settings.FLUX_RELAY_LINGER_SECONDS
        self.linger_from = linger_from if linger_from is not None else settings.FLUX_RELAY_LINGER_FROM
        self.published = 0

    def pause_after(self, found: int) -> float:
        """How long to wait before the next poll, after one that found `found` events."""
        if found >= self.batch_size:
            return 0.0
        if found >= self.linger_from:
            return max(self.linger_seconds, self.sweep_seconds)
        return self.sweep_seconds

    async def run(self, stop: asyncio.Event) -> None:
        """Relay until `stop` is set, surviving NATS outages."""

        async def work(nc, js, ready) -> None:
            ready()
            await self._pump(js, stop)

        await serve_audit_stream(name="flux-relay", stop=stop, work=work, log=logger, doing="publishing to")

    async def _pump(self, js, stop: asyncio.Event) -> None:
        while not stop.is_set():
            if pause := self.pause_after(await self.publish_batch(js)):
                await sleep_or_stop(stop, pause)

    async def publish_batch(self, js) -> int:
        """Publish the oldest outbox events, all before awaiting any ack; forget those JetStream
        acked (a duplicate's ack included: it has the event already). Raises PublishFailed when
        some were refused or not acked within ACK_TIMEOUT_SECONDS, so that the caller reconnects
        and backs off.

        Each publication is a js.publish of its own, all started at once: the requests go out in
        order on the one connection and their acks are matched as they come. (Not js.publish_async:
        in nats-py 2.16 a publication JetStream refuses never settles its future - the reply
        callback raises the error instead of setting it - so it would cost the whole timeout.)"""
        events = await sync_to_async(next_batch)(self.batch_size)
        messages = [audit_message(event) for event in events]
        acks = [asyncio.ensure_future(js.publish(subject, payload, headers=headers, timeout=ACK_TIMEOUT_SECONDS))
                for subject, payload, headers in messages]
        try:
            if acks:
                await asyncio.wait(acks)
        finally:
            acked = {event.pk for event, ack in zip(events, acks, strict=True) if _acked(ack)}
            for ack in acks:
                if not ack.done():  # stopped meanwhile: the event is published again, then dropped
                    ack.cancel()
            failures = [event.pk for event in events if event.pk not in acked]
            if acked:
                await sync_to_async(forget)(sorted(acked))
                self.published += len(acked)
                EVENTS_PUBLISHED.inc(len(acked))
                totals["audit_events_published"] += len(acked)
            if failures:
                await sync_to_async(note_failed_attempts)(failures)
        if failures:
            errors = {str(error) or type(error).__name__
                      for error in (ack.exception() for ack in acks if not ack.cancelled()) if error}
            raise PublishFailed(f"{len(failures)} of {len(events)} events not acked by JetStream "
                                f"({', '.join(sorted(errors))})")
        return len(events)
