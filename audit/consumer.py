"""The consumer: a durable JetStream pull consumer that stores audit events in the hash-chained
audit log, exactly once by event id, and acks them only after their rows are committed.

It works in batches: each fetch (up to FLUX_AUDIT_CONSUMER_BATCH_SIZE messages) is checked message
by message, then every authentic event in it is stored in one transaction (audit.chain.append_batch:
one lock of the chain head, one INSERT), and only after the commit is each message acked. If that
transaction fails, the whole batch is nak'ed and comes back. Killed mid-batch, it loses nothing: an
uncommitted batch is rolled back by PostgreSQL and redelivered after ack_wait; a committed but
unacked one is redelivered too and each event found already stored (a duplicate, not a second row).

Only what the relay signed is stored (audit/signing.py): the signature is checked before anything
is read from the message, and whatever is unsigned, forged or not the event its Nats-Msg-Id names
is refused - logged at ERROR with its subject and the reason, terminated so that JetStream does not
deliver it again, and neither stored nor chained, so it takes no event id from the real event."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Mapping

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import close_old_connections

from audit.chain import append_batch
from audit.metrics import CHAIN_LENGTH, CONSUMER_LAG, EVENTS_REFUSED, EVENTS_STORED
from audit.nats import audit_consumer_config, serve_audit_stream, subject_for
from audit.signing import Refused, announcement_headers, verify, verify_event_id
from core.metrics import figures, totals

logger = logging.getLogger("flux.audit.consumer")

# How often the consumer reads its lag from JetStream (one API request) for its metrics.
LAG_EVERY_SECONDS = 5.0


def store(events: list[dict]):
    close_old_connections()
    return append_batch(events)


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


def authentic_event(subject: str, data: bytes, headers: Mapping[str, str] | None) -> dict:
    """The event in a message the relay published. Anything else raises Refused, saying why; the
    signature is checked before the payload is parsed."""
    key = verify(subject, data, headers, msg_id_required=True)
    try:
        event = json.loads(data)
        event_id, action = int(event["event_id"]), str(event["action"])
    except (ValueError, KeyError, TypeError) as exc:
        raise Refused("malformed: not an audit event") from exc
    verify_event_id(headers or {}, event_id, key)
    if subject != subject_for(action):
        raise Refused(f"the subject is not the one of action {action!r}")
    return event


class AuditStreamReader:
    """A durable pull consumer of the AUDIT stream that works in batches: what the audit consumer
    and the notifier (notifications/notifier.py) share. Each fetch is checked message by message
    (only what the relay signed is read; the rest is refused: logged at ERROR and terminated), the
    authentic events are handed to `store` (one transaction), and only after it returns is each
    message acked; if it raises, the whole batch is nak'ed and comes back. Then `committed` runs
    with what `store` returned (announcements, counters)."""

    name = ""  # the NATS connection's name
    doing = ""  # for the logs: "consuming from"
    lag_gauge = None  # a Prometheus gauge of the consumer's lag
    lag_figure = ""  # its name in core.metrics.figures
    refused_counter = None
    log = logger  # the process's own logger

    def __init__(self, *, durable: str, batch_size: int, config) -> None:
        self.durable, self.batch_size, self.config = durable, batch_size, config
        self.refused = 0

    async def store(self, events: list[dict]):
        raise NotImplementedError

    async def committed(self, nc, events: list[dict], stored) -> None:
        """After the commit and the acks."""

    async def run(self, stop: asyncio.Event) -> None:
        async def work(nc, js, ready) -> None:
            subscription = await js.pull_subscribe(
                "audit.>", durable=self.durable, stream=settings.FLUX_AUDIT_STREAM, config=self.config,
            )
            ready()
            self.log.info("%s subscribed (durable %s)", self.name, self.durable)
            lag_read_at = 0.0
            while not stop.is_set():
                if time.monotonic() - lag_read_at >= LAG_EVERY_SECONDS:
                    lag_read_at = time.monotonic()
                    await self.read_lag(subscription)
                try:
                    messages = await subscription.fetch(self.batch_size, timeout=1)
                except TimeoutError:  # nats' own, or asyncio's leaking from fetch: nothing came
                    continue
                await self.handle_batch(nc, messages)

        await serve_audit_stream(name=self.name, stop=stop, work=work, log=self.log, doing=self.doing)

    async def read_lag(self, subscription) -> None:
        """The consumer's lag (messages not yet delivered or not yet acked) into its gauge."""
        try:
            info = await subscription.consumer_info()
        except Exception as error:  # a metric: never a reason to stop consuming
            self.log.debug("%s could not read its lag: %s", self.name, error)
            return
        lag = (info.num_pending or 0) + (info.num_ack_pending or 0)
        self.lag_gauge.set(lag)
        figures[self.lag_figure] = lag

    async def handle_batch(self, nc, messages: list) -> None:
        """Refuse what is not authentic, store the rest in one transaction, then ack it all."""
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
        try:
            stored = await self.store(events)
        except Exception:
            self.log.exception("%s could not store a batch of %d audit events (%s to %s); it will be redelivered",
                             self.name, len(events), events[0].get("event_id"), events[-1].get("event_id"))
            for message in delivered:
                await message.nak(delay=1)
            return
        # Only now, with the rows committed, does JetStream learn the events are safe. A lost ack
        # means a redelivery, which `store` must find already done (a duplicate, not a second row).
        for message in delivered:
            await message.ack()
        await nc.flush()
        await self.committed(nc, events, stored)

    async def refuse(self, message, reason: str) -> None:
        """Not from the relay, or not readable: never stored. Terminated, not nak'ed: it would
        come back forever."""
        self.refused += 1
        self.refused_counter.inc()
        self.log.error("refused an audit message on %s: %s", message.subject, reason)
        try:
            await message.term()
        except Exception:  # not a JetStream delivery (no reply subject to terminate it on)
            self.log.warning("could not terminate the refused message on %s", message.subject)


class Consumer(AuditStreamReader):
    name = "flux-audit-consumer"
    doing = "consuming from"
    lag_gauge = CONSUMER_LAG
    lag_figure = "consumer_lag"
    refused_counter = EVENTS_REFUSED

    def __init__(self, *, batch_size: int | None = None) -> None:
        super().__init__(durable=settings.FLUX_AUDIT_CONSUMER,
                         batch_size=batch_size or settings.FLUX_AUDIT_CONSUMER_BATCH_SIZE,
                         config=audit_consumer_config())
        self.stored = 0
        self.duplicates = 0

    async def store(self, events: list[dict]):
        return await sync_to_async(store)(events)

    async def committed(self, nc, events: list[dict], stored) -> None:
        records, skipped = stored
        self.stored += len(records)
        self.duplicates += len(skipped)
        EVENTS_STORED.inc(len(records))
        totals["audit_events_stored"] += len(records)
        if records:
            CHAIN_LENGTH.set(records[-1].seq)
            figures["chain_length"] = records[-1].seq
        for record in records:
            try:
                subject, payload = f"{settings.FLUX_AUDIT_RECORDED_SUBJECT}.{record.action}", record_message(record)
                await nc.publish(subject, payload, headers=announcement_headers(subject, payload))
            except Exception:
                logger.warning("could not announce audit record %s to the live tail", record.seq)
