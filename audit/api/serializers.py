from rest_framework import serializers

from audit.models import AuditLogRecord


class AuditLogRecordSerializer(serializers.ModelSerializer):
    id = serializers.IntegerField(source="event_id", read_only=True, help_text="The event id (Nats-Msg-Id).")
    actor = serializers.CharField(source="actor_username", read_only=True, allow_null=True,
                                  help_text="The username, or null for the system.")

    class Meta:
        model = AuditLogRecord
        fields = ["id", "seq", "occurred_at", "actor", "action", "target_type", "target_id", "data", "hash",
                  "prev_hash"]
        read_only_fields = fields

    def to_representation(self, record):
        body = super().to_representation(record)
        body["actor"] = body["actor"] or None
        return body


class VerdictSerializer(serializers.Serializer):
    ok = serializers.BooleanField()
    checked = serializers.IntegerField()
    first_bad = serializers.IntegerField(allow_null=True, help_text="The seq of the first row that does not verify.")
    reason = serializers.CharField(allow_blank=True)
