"""The consumer: a durable JetStream pull consumer that stores each audit event in the
hash-chained audit log, exactly once by event id, and acks only after the row is committed.
Killed mid-stream, it loses nothing: unacked messages are redelivered and stored at most once."""

from __future__ import annotations

import asyncio
import json
import logging

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import close_old_connections

from audit.chain import append
from audit.nats import audit_consumer_config, audit_stream_config, connect, ensure_stream
from audit.relay import MAX_BACKOFF_SECONDS, _close_quietly, _sleep_or_stop

logger = logging.getLogger("flux.audit.consumer")


def store(event: dict):
    close_old_connections()
    return append(event)


def record_message(record) -> bytes:
    return json.dumps(
        {
            "seq": record.seq,
            "id": record.event_id,
            "occurred_at": record.occurred_at.isoformat(),
            "actor": record.actor_username or None,
            "action": record.action,
            "target_type": record.target_type,
            "target_id": record.target_id,
            "data": record.data,
            "hash": record.hash,
        }
    ).encode()


class Consumer:
    def __init__(self, *, batch_size: int = 100) -> None:
        self.batch_size = batch_size
        self.stored = 0
        self.duplicates = 0

    async def run(self, stop: asyncio.Event) -> None:
        backoff = 0.2
        while not stop.is_set():
            try:
                nc = await connect("flux-audit-consumer", max_reconnect_attempts=0)
            except Exception as exc:
                logger.warning("NATS unreachable (%s); retrying in %.1fs", exc, backoff)
                await _sleep_or_stop(stop, backoff)
                backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)
                continue
            try:
                js = nc.jetstream(timeout=2)
                await ensure_stream(js, audit_stream_config())
                subscription = await js.pull_subscribe(
                    "audit.>",
                    durable=settings.FLUX_AUDIT_CONSUMER,
                    stream=settings.FLUX_AUDIT_STREAM,
                    config=audit_consumer_config(),
                )
                backoff = 0.2
                while not stop.is_set():
                    try:
                        messages = await subscription.fetch(self.batch_size, timeout=1)
                    except TimeoutError:  # nats' own, or asyncio's leaking from fetch: nothing came
                        continue
                    for message in messages:
                        await self.handle(nc, message)
            except Exception as exc:
                logger.warning("consuming from NATS failed (%r); retrying in %.1fs", exc, backoff)
                await _sleep_or_stop(stop, backoff)
                backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)
            finally:
                await _close_quietly(nc)

    async def handle(self, nc, message) -> None:
        try:
            event = json.loads(message.data)
            int(event["event_id"])
        except (ValueError, KeyError, TypeError):
            logger.error("dropping a malformed audit message on %s", message.subject)
            await message.term()
            return
        try:
            record, created = await sync_to_async(store)(event)
        except Exception:
            logger.exception("could not store audit event %s; it will be redelivered", event.get("event_id"))
            await message.nak(delay=1)
            return
        # Only now, with the row committed, does JetStream learn the event is safe.
        await message.ack_sync()
        if created:
            self.stored += 1
            try:
                await nc.publish(f"{settings.FLUX_AUDIT_RECORDED_SUBJECT}.{record.action}", record_message(record))
            except Exception:
                logger.warning("could not announce audit record %s to the live tail", record.seq)
        else:
            self.duplicates += 1
