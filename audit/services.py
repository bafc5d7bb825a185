from __future__ import annotations

from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from audit.models import AuditEvent, OutboxMessage

# PostgreSQL NOTIFY channel the relay LISTENs on. NOTIFY is transactional: the relay is woken
# when, and only when, the change and its event commit.
OUTBOX_CHANNEL = "flux_audit_outbox"


def audit_record(
    *,
    actor,
    action: str,
    target_type: str = "",
    target_id: object = "",
    data: dict[str, Any] | None = None,
) -> AuditEvent:
    """Record one audit event. Call it inside the atomic block of the change it describes:
    the event and its outbox message then commit or roll back with the change (transactional
    outbox); the relay publishes them to NATS after the commit."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("audit_record must run inside the atomic block of the change it records")
    actor_user = actor if getattr(actor, "pk", None) else None
    event = AuditEvent.objects.create(
        occurred_at=timezone.now(),
        actor=actor_user,
        actor_username=actor_user.get_username() if actor_user else "",
        action=action,
        target_type=target_type,
        target_id=str(target_id) if target_id != "" else "",
        data=data or {},
    )
    OutboxMessage.objects.create(event=event)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_notify(%s, '')", [OUTBOX_CHANNEL])
    return event
