"""The relay: publishes committed audit events from the outbox to JetStream, then forgets them.

It polls the outbox: whenever a batch comes back short it waits FLUX_RELAY_SWEEP_SECONDS (0.1 s
by default), so under load it publishes without pause and when idle an event waits at most that
long. (It used to be woken by a PostgreSQL NOTIFY sent in each event's transaction, but PostgreSQL
serialises the commits of notifying transactions behind one lock: issue 11.) When NATS is down it
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

from audit.models import AuditEvent, OutboxMessage
from audit.nats import audit_message, serve_audit_stream, sleep_or_stop

logger = logging.getLogger("flux.audit.relay")


def pending_events(limit: int) -> list[AuditEvent]:
    """The oldest events still in the outbox."""
    close_old_connections()
    return list(AuditEvent.objects.filter(outbox__isnull=False).order_by("id")[:limit])


def forget(event_ids: list[int]) -> None:
    """JetStream has them: remove them from the outbox."""
    OutboxMessage.objects.filter(event_id__in=event_ids).delete()


def note_failed_attempt(event_id: int) -> None:
    OutboxMessage.objects.filter(event_id=event_id).update(attempts=F("attempts") + 1)


class Relay:
    def __init__(self, *, batch_size: int = 200, sweep_seconds: float | None = None) -> None:
        self.batch_size = batch_size
        self.sweep_seconds = sweep_seconds if sweep_seconds is not None else settings.FLUX_RELAY_SWEEP_SECONDS
        self.published = 0

    async def run(self, stop: asyncio.Event) -> None:
        """Relay until `stop` is set, surviving NATS outages."""

        async def work(nc, js, ready) -> None:
            ready()
            await self._pump(js, stop)

        await serve_audit_stream(name="flux-relay", stop=stop, work=work, log=logger, doing="publishing to")

    async def _pump(self, js, stop: asyncio.Event) -> None:
        while not stop.is_set():
            if await self.publish_batch(js) < self.batch_size:
                await sleep_or_stop(stop, self.sweep_seconds)

    async def publish_batch(self, js) -> int:
        """Publish the oldest outbox events in order; forget each batch once JetStream acked it."""
        events = await sync_to_async(pending_events)(self.batch_size)
        acked: list[int] = []
        try:
            for event in events:
                try:
                    subject, payload, headers = audit_message(event)
                    await js.publish(subject, payload, headers=headers, timeout=2)
                except Exception:
                    await sync_to_async(note_failed_attempt)(event.pk)
                    raise
                acked.append(event.pk)
        finally:
            if acked:
                await sync_to_async(forget)(acked)
                self.published += len(acked)
        return len(events)

