"""Audit events as the notifier reads them off the stream (audit.nats.event_payload), taken from
the database after the services wrote them."""

from __future__ import annotations

import json

from audit.models import AuditEvent
from audit.nats import event_payload


def events_after(event_id: int = 0) -> list[dict]:
    return [json.loads(event_payload(event)) for event in AuditEvent.objects.filter(pk__gt=event_id).order_by("pk")]


def last_event_id() -> int:
    return AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
