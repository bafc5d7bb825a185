"""Reads of a customer's notifications. Every one is filtered by its customer: nobody reads
another's (a notification of someone else is not found)."""

from __future__ import annotations

from django.db.models import QuerySet

from notifications.models import Notification

# What the live stream sends again from the database on reconnection, at most.
REPLAY_LIMIT = 50


def notifications_for(user) -> QuerySet[Notification]:
    """The user's notifications, newest first (none for staff: they get no notifications)."""
    if not user.is_authenticated or not user.is_customer:
        return Notification.objects.none()
    return Notification.objects.filter(customer=user).order_by("-id")


def unread_count(user) -> int:
    """The bell's figure (the partial index on unread notifications answers it)."""
    if not user.is_authenticated or not user.is_customer:
        return 0
    return Notification.objects.filter(customer=user, read_at__isnull=True).count()


def notifications_after(*, customer_id: int, after_id: int, limit: int = REPLAY_LIMIT) -> list[Notification]:
    """The customer's notifications newer than `after_id`, oldest first (a stream's replay)."""
    return list(Notification.objects.filter(customer_id=customer_id, pk__gt=after_id).order_by("id")[:limit])


def newest_id(user) -> int:
    return notifications_for(user).values_list("pk", flat=True).first() or 0
