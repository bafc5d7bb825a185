from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from audit.models import AuditEvent, OutboxMessage


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
    # No NOTIFY to wake the relay: PostgreSQL serialises the commits of notifying transactions
    # behind one lock (pgbench, 16 clients: 670-850 tps with a pg_notify, 3,260-4,280 without).
    # The relay polls the outbox instead (audit/relay.py).
    OutboxMessage.objects.create(event=event)
    return event
