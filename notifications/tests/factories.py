from __future__ import annotations

from itertools import count

from django.utils import timezone

from notifications.models import Notification, NotificationKind

_event_ids = count(1_000_000)


def money_in(customer, *, payer: str = "Alice Liddell", amount_minor: int = 12_34, **fields) -> Notification:
    """A money-in notification, as the notifier would have written it for some event."""
    return Notification.objects.create(
        customer=customer, kind=NotificationKind.MONEY_IN, event_id=next(_event_ids), created_at=timezone.now(),
        params={"amount_minor": amount_minor, "currency": "EUR", "payer": payer, "reference": ""}, **fields,
    )
