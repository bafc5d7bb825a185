"""Helpers for the audit tests: events shaped as they travel on NATS, a filled log, a way past
the append-only triggers for tampering tests, and the live tail's event stream opened and read."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import nats
from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import connection
from django.test import AsyncClient
from django.urls import reverse
from django.utils import timezone

from audit import actions
from audit.chain import append, verify
from audit.models import AuditEvent, AuditLogRecord, OutboxMessage
from audit.nats import server_urls
from core.db.append_only import _sqlite_trigger
from core.testing.nats import wait_until

LOG = "audit_auditlogrecord"
START = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def event(event_id: int, **overrides) -> dict:
    """An event as audit.nats.event_payload puts it on the wire."""
    return {
        "event_id": event_id,
        "occurred_at": (START + timedelta(seconds=event_id)).isoformat(),
        "actor_id": 7,
        "actor_username": "agnes",
        "action": actions.TRANSACTION_POSTED,
        "target_type": "transaction",
        "target_id": str(1000 + event_id),
        "data": {"amount": f"{event_id}.00", "currency": "EUR", "reference": "Café ☕"},
    } | overrides


def fill(count: int) -> list[AuditLogRecord]:
    return [append(event(event_id))[0] for event_id in range(1, count + 1)]


@contextmanager
def as_database_owner(table: str = LOG) -> Iterator:
    """Bypass the append-only triggers, as someone owning the database could, then restore them."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
            try:
                yield cursor
            finally:
                cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER USER")
        else:
            for op in ("update", "delete"):
                cursor.execute(f"DROP TRIGGER {table}_append_only_{op}")
            try:
                yield cursor
            finally:
                for op in ("UPDATE", "DELETE"):
                    cursor.execute(_sqlite_trigger(table, op))


def jetstream(url: str, work, **options):
    """Run `await work(js)` against a nats-server, or a cluster listed as NATS_URL lists it (nats.connect
    options, e.g. user and password)."""

    async def main():
        nc = await nats.connect(servers=server_urls(url), **options)
        try:
            return await work(nc.jetstream())
        finally:
            await nc.close()

    return asyncio.run(main())


def consumer_idle(url: str, **options) -> bool:
    """The durable consumer has been delivered everything in the stream and acked it all."""

    async def check(js):
        stream = await js.stream_info(settings.FLUX_AUDIT_STREAM)
        info = await js.consumer_info(settings.FLUX_AUDIT_STREAM, settings.FLUX_AUDIT_CONSUMER)
        return (info.num_pending == 0 and info.num_ack_pending == 0
                and info.delivered.stream_seq == stream.state.last_seq)

    return jetstream(url, check, **options)


def event_ids() -> set[int]:
    return set(AuditEvent.objects.values_list("pk", flat=True))


def logged_ids() -> list[int]:
    return list(AuditLogRecord.objects.values_list("event_id", flat=True))


def assert_everything_logged_once(*, timeout: float = 30) -> None:
    """Every committed event reaches the log exactly once; the outbox drains; the chain verifies."""
    expected = event_ids()
    wait_until(lambda: set(logged_ids()) >= expected and not OutboxMessage.objects.exists(), timeout=timeout,
               interval=0.1, message=f"the audit log did not catch up ({len(logged_ids())}/{len(expected)})")
    stored = logged_ids()
    assert set(stored) == expected
    assert len(stored) == len(expected), "an event was stored twice"
    assert not OutboxMessage.objects.exists()
    verdict = verify()
    assert verdict.ok, verdict
    assert verdict.checked == len(expected)


log_event_ids = iter(range(1_000_000, 2_000_000))  # log()'s event ids, clear of any test's own


def log(action: str = "transaction.posted", *, actor: str = "alice", target_type: str = "transaction",
        target_id: str = "7", occurred_at=None) -> AuditLogRecord:
    """Append a record to the audit log as the consumer would (the staff dashboards' tests)."""
    record, _ = append({
        "event_id": next(log_event_ids),
        "occurred_at": (occurred_at or timezone.now()).isoformat(),
        "actor_id": None,
        "actor_username": actor,
        "action": action,
        "target_type": target_type,
        "target_id": target_id,
        "data": {},
    })
    return record


# --- The live tail's event stream ---


async def read_events(response, *, count: int, timeout: float = 5.0) -> list[dict]:
    """Parse `count` events (data events and status events) from a streaming SSE response."""
    events: list[dict] = []
    buffer = ""
    stream = aiter(response.streaming_content)

    async def collect():
        nonlocal buffer
        while len(events) < count:
            chunk = await anext(stream)
            buffer += chunk.decode() if isinstance(chunk, bytes) else chunk
            while "\n\n" in buffer:
                block, buffer = buffer.split("\n\n", 1)
                fields: dict = {}
                for line in block.splitlines():
                    if line.startswith(":"):
                        fields["comment"] = line[1:].strip()
                    elif ":" in line:
                        key, value = line.split(":", 1)
                        fields[key] = value.strip()
                if "data" in fields:
                    fields["data"] = json.loads(fields["data"])
                if "data" in fields or "comment" in fields:
                    events.append(fields)

    await asyncio.wait_for(collect(), timeout)
    return events


async def open_stream(user, *, query: str = "", **headers):
    client = AsyncClient()
    await sync_to_async(client.force_login)(user)
    response = await client.get(reverse("staff-audit-stream") + query, headers=headers)
    assert response.status_code == 200
    return response


def last_event() -> AuditEvent:
    return AuditEvent.objects.order_by("-pk").first()


def assert_audited(event: AuditEvent, *, actor, action: str, target_type: str, target_id: object) -> None:
    assert event.action == action
    assert event.actor_id == (actor.pk if actor else None)
    assert event.actor_username == (actor.username if actor else "")
    assert event.target_type == target_type
    assert event.target_id == str(target_id)
