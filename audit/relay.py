"""The relay: publishes committed audit events from the outbox to JetStream, then forgets them.

It is woken by PostgreSQL NOTIFY (sent in the same transaction as the event, so it arrives on
commit) and sweeps the outbox on a timer for anything missed (and on SQLite, which cannot
notify). When NATS is down it retries with backoff; the outbox keeps every event meanwhile, so
nothing is lost. Each publication is signed and carries a Nats-Msg-Id made from the event id
(audit/signing.py): a second publication of the same event (a crash between publish and delete)
is dropped by JetStream's de-duplication, and the consumer is idempotent by event id anyway. Web
requests never talk to NATS.
"""

from __future__ import annotations

import asyncio
import logging

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import close_old_connections, connection
from django.db.models import F

from audit.models import AuditEvent, OutboxMessage
from audit.nats import (
    MAX_BACKOFF_SECONDS,
    audit_message,
    audit_stream_config,
    close_quietly,
    connect,
    ensure_stream,
    sleep_or_stop,
)
from audit.services import OUTBOX_CHANNEL

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


class OutboxListener:
    """LISTEN on PostgreSQL's outbox channel, so the relay wakes as soon as an event commits."""

    def __init__(self) -> None:
        self.connection = None

    async def open(self) -> None:
        if connection.vendor != "postgresql" or self.connection is not None:
            return
        import psycopg

        db = settings.DATABASES["default"]
        try:
            self.connection = await psycopg.AsyncConnection.connect(
                dbname=db["NAME"], user=db.get("USER") or None, password=db.get("PASSWORD") or None,
                host=db.get("HOST") or None, port=db.get("PORT") or None, autocommit=True,
            )
            await self.connection.execute(f"LISTEN {OUTBOX_CHANNEL}")
        except Exception:  # the timer sweep still works without it
            logger.warning("cannot LISTEN for outbox notifications; sweeping on the timer only", exc_info=True)
            self.connection = None

    async def wait(self, timeout: float) -> None:
        if self.connection is None:
            await asyncio.sleep(timeout)
            return
        try:
            async for _ in self.connection.notifies(timeout=timeout, stop_after=1):
                pass
        except Exception:
            logger.warning("lost the outbox LISTEN connection", exc_info=True)
            await self.close()
            await asyncio.sleep(timeout)

    async def close(self) -> None:
        if self.connection is not None:
            try:
                await self.connection.close()
            finally:
                self.connection = None


class Relay:
    def __init__(self, *, batch_size: int = 200, sweep_seconds: float | None = None) -> None:
        self.batch_size = batch_size
        self.sweep_seconds = sweep_seconds if sweep_seconds is not None else settings.FLUX_RELAY_SWEEP_SECONDS
        self.listener = OutboxListener()
        self.published = 0

    async def run(self, stop: asyncio.Event) -> None:
        """Relay until `stop` is set, surviving NATS outages."""
        backoff = 0.2
        await self.listener.open()
        try:
            while not stop.is_set():
                try:
                    nc = await connect("flux-relay", max_reconnect_attempts=0)
                except Exception as exc:
                    logger.warning("NATS unreachable (%s); retrying in %.1fs", exc, backoff)
                    await sleep_or_stop(stop, backoff)
                    backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)
                    continue
                try:
                    js = nc.jetstream(timeout=2)
                    await ensure_stream(js, audit_stream_config())
                    backoff = 0.2
                    await self._pump(js, stop)
                except Exception as exc:
                    logger.warning("publishing to NATS failed (%r); retrying in %.1fs", exc, backoff)
                    await sleep_or_stop(stop, backoff)
                    backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)
                finally:
                    await close_quietly(nc)
        finally:
            await self.listener.close()

    async def _pump(self, js, stop: asyncio.Event) -> None:
        while not stop.is_set():
            if await self.publish_batch(js) < self.batch_size:
                await self.listener.wait(self.sweep_seconds)

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

