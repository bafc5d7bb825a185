"""Every write to notifications: the notifier stores what the audit events make; a customer marks
theirs read."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from core.errors import NotFound
from core.ids import parse_id
from notifications.events import notifications_for_events
from notifications.models import Notification


def notifications_store(*, events: list[dict]) -> list[Notification]:
    """Write the notifications `events` make, each (event, customer) once: what an earlier delivery
    of the same events already wrote is skipped, so a redelivery writes nothing twice. Returns the
    notifications written now. One transaction; a concurrent notifier writing the same ones makes
    it fail on the unique constraint (IntegrityError), and the caller delivers the batch again."""
    with transaction.atomic():
        made = notifications_for_events(events)
        if not made:
            return []
        written = set(Notification.objects.filter(event_id__in={n.event_id for n in made})
                      .values_list("event_id", "customer_id"))
        new = [n for n in made if (n.event_id, n.customer_id) not in written]
        return Notification.objects.bulk_create(new)


def notification_for_customer(*, customer, notification_id: object) -> Notification:
    """The customer's own notification; anyone else's, or none, is not found."""
    try:
        return Notification.objects.get(pk=parse_id(notification_id), customer_id=customer.pk)
    except Notification.DoesNotExist:
        raise NotFound("Notification not found.") from None


def notification_mark_read(*, customer, notification_id: object) -> Notification:
    """Mark one of the customer's notifications read (again: it keeps the first time).

    Errors: not_found (another customer's, or none; staff have none)."""
    notification = notification_for_customer(customer=customer, notification_id=notification_id)
    if notification.read_at is None:
        # Only an unread row changes, so two requests at once keep the first time.
        now = timezone.now()
        if Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(read_at=now):
            notification.read_at = now
        else:
            notification.refresh_from_db(fields=["read_at"])
    return notification


def notifications_mark_all_read(*, customer) -> int:
    """Mark every unread notification of the customer read. Returns how many."""
    return Notification.objects.filter(customer_id=customer.pk, read_at__isnull=True).update(read_at=timezone.now())
