"""Helpers for the audit tests: events shaped as they travel on NATS, a filled log, and a way
past the append-only triggers for tampering tests."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

from django.db import connection

from audit import actions
from audit.chain import append
from audit.models import AuditLogRecord
from core.db.append_only import _sqlite_trigger

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
