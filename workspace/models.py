"""Bulk imports: an uploaded CSV of operations, validated line by line on upload, then applied in
chunks (workspace/imports/). Each line keeps its own result, so a 10,000-line file survives a
page reload half way through and its report can be read or downloaded at any time."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ImportBatch(models.Model):
    """One uploaded file. `sha256` is the file's digest: with the line number it makes each line's
    idempotency key, so the same file uploaded again applies nothing a second time."""

    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    file_name = models.CharField(max_length=255)
    sha256 = models.CharField(max_length=64, db_index=True)
    line_count = models.PositiveIntegerField()
    created_at = models.DateTimeField(db_index=True)
    # Set when the uploader asks for the valid lines to be applied; None while they review.
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"#{self.pk} {self.file_name} ({self.line_count} lines)"


class ImportLineStatus(models.TextChoices):
    INVALID = "invalid", _("invalid")  # refused by validation: never sent to a service
    VALID = "valid", _("valid, not applied yet")  # passed validation, not applied yet
    APPLIED = "applied", _("applied")  # posted by this batch
    PENDING = "pending", _("pending approval")  # created pending by this batch (four eyes)
    REFUSED = "refused", _("refused")  # the service refused it (insufficient funds, frozen since, ...)
    ALREADY_APPLIED = "already", _("already applied")  # an earlier upload of the same file applied it


class ImportLine(models.Model):
    """One data line of a batch (`number` is the file line it starts on: the header is line 1),
    what it asks for once validated, and its result."""

    batch = models.ForeignKey(ImportBatch, on_delete=models.CASCADE, related_name="lines")
    number = models.PositiveIntegerField()
    raw = models.JSONField()  # the cells as read, for the report
    status = models.CharField(max_length=8, choices=ImportLineStatus.choices)
    message = models.CharField(max_length=500, blank=True)
    kind = models.CharField(max_length=10, blank=True)
    account = models.ForeignKey("banking.Account", null=True, blank=True, on_delete=models.PROTECT,
                                related_name="+")
    counterparty_iban = models.CharField(max_length=34, blank=True)
    amount = models.BigIntegerField(null=True, blank=True)  # minor units
    reference = models.CharField(max_length=140, blank=True)
    transaction = models.ForeignKey("banking.Transaction", null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+")

    class Meta:
        ordering = ["batch", "number"]
        constraints = [models.UniqueConstraint(fields=["batch", "number"], name="import_line_number_per_batch")]
        indexes = [models.Index(fields=["batch", "status", "number"], name="import_line_status_idx")]

    def __str__(self) -> str:
        return f"line {self.number} of batch {self.batch_id}: {self.status}"
