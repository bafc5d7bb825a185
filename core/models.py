"""Core's one model: the API's idempotency keys (core/idempotency.py)."""

from django.conf import settings
from django.db import models


class IdempotencyKey(models.Model):
    """A client's Idempotency-Key and the response it got, so a retry replays instead of
    moving money again. Unique per user; written in the same transaction as the operation."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64)
    response_status = models.PositiveSmallIntegerField()
    response_body = models.JSONField()
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        # Created by the banking app (its migration 0001); the model moved to core, the table stayed.
        db_table = "banking_idempotencykey"
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="idempotency_key_per_user")]

    def __str__(self) -> str:
        return f"{self.key} ({self.response_status})"
