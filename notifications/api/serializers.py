from __future__ import annotations

from rest_framework import serializers

from notifications.messages import notification_text
from notifications.models import Notification, NotificationKind


class NotificationSerializer(serializers.ModelSerializer):
    """A notification as the customer reads it: title and body in the request's language."""

    kind = serializers.ChoiceField(choices=NotificationKind.choices, read_only=True)
    title = serializers.SerializerMethodField()
    body = serializers.SerializerMethodField()

    class Meta:
        model = Notification
        fields = ["id", "kind", "title", "body", "transaction", "created_at", "read_at"]
        read_only_fields = fields

    def get_title(self, notification: Notification) -> str:
        return notification_text(notification.kind, notification.params).title

    def get_body(self, notification: Notification) -> str:
        return notification_text(notification.kind, notification.params).body


class ReadAllSerializer(serializers.Serializer):
    read = serializers.IntegerField(help_text="How many notifications were unread and are now read.")
