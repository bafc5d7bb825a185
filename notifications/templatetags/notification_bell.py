"""The bell of the customer app's navigation (templates/includes/notification_bell.html): the
unread count and the newest notification's id, from which the live stream starts."""

from __future__ import annotations

from django import template
from django.db.models import Count, Max, Q

from notifications.selectors import notifications_for

register = template.Library()


@register.simple_tag
def notification_bell(user) -> dict:
    """One query: {"unread": n, "newest": id or 0}."""
    figures = notifications_for(user).order_by().aggregate(
        unread=Count("pk", filter=Q(read_at__isnull=True)), newest=Max("pk"),
    )
    return {"unread": figures["unread"] or 0, "newest": figures["newest"] or 0}
