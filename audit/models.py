from django.conf import settings
from django.db import models


class AuditEvent(models.Model):
    """Who did what, to what, when. Written by `audit.services.audit_record` inside the atomic
    block of the change it describes, so the row exists if and only if the change committed
    (the transactional outbox the NATS relay reads). Append-only: on PostgreSQL a trigger refuses
    UPDATE and DELETE."""

    occurred_at = models.DateTimeField(db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # Kept as text too, so the record stays readable whatever happens to the user row.
    actor_username = models.CharField(max_length=150, blank=True)
    action = models.CharField(max_length=64, db_index=True)
    target_type = models.CharField(max_length=32, blank=True)
    target_id = models.CharField(max_length=64, blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        indexes = [models.Index(fields=["target_type", "target_id"], name="audit_target_idx")]

    def __str__(self) -> str:
        return f"{self.occurred_at:%Y-%m-%d %H:%M:%S} {self.actor_username or 'system'} {self.action}"

    @property
    def area(self) -> str:
        return self.action.split(".", 1)[0]


class OutboxMessage(models.Model):
    """An audit event not yet accepted by JetStream. Written with the event (same transaction);
    the relay deletes it once JetStream has acknowledged the publication."""

    event = models.OneToOneField(AuditEvent, on_delete=models.CASCADE, primary_key=True, related_name="outbox")
    attempts = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"outbox {self.event_id}"


class AuditLogRecord(models.Model):
    """The audit log as the consumer stored it from NATS: one row per event (exactly once by event
    id), append-only (a PostgreSQL trigger refuses UPDATE and DELETE) and hash-chained: `hash`
    covers the row's canonical content and the previous row's hash, so an edited, deleted or
    reordered row breaks the chain (audit.chain.verify)."""

    seq = models.BigAutoField(primary_key=True)
    event_id = models.BigIntegerField(unique=True)
    occurred_at = models.DateTimeField(db_index=True)
    actor_id = models.BigIntegerField(null=True, blank=True)
    actor_username = models.CharField(max_length=150, blank=True, db_index=True)
    action = models.CharField(max_length=64, db_index=True)
    target_type = models.CharField(max_length=32, blank=True)
    target_id = models.CharField(max_length=64, blank=True)
    data = models.JSONField(default=dict, blank=True)
    recorded_at = models.DateTimeField()
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        indexes = [models.Index(fields=["target_type", "target_id"], name="auditlog_target_idx")]

    def __str__(self) -> str:
        return f"#{self.seq} {self.action} {self.hash[:12]}"


class ChainHead(models.Model):
    """The tip of the hash chain (one row). The consumer locks it to append, which serialises
    appends; verification compares it with the last row, so a deleted tail is detected too."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    last_seq = models.BigIntegerField(default=0)
    last_hash = models.CharField(max_length=64, default="0" * 64)
    length = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"chain head #{self.last_seq} ({self.length} rows)"
