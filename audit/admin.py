"""The Django admin is a read-only window on Flux: every change goes through the services (and
their audit), never through an admin form. Who sees which model is the role's view permission
(identity/permissions.py: the audit events are for supervisors only)."""

from django.contrib import admin

from audit.models import AuditEvent
from core.admin import ReadOnlyModelAdmin


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyModelAdmin):
    list_display = ("id", "occurred_at", "actor_username", "action", "target_type", "target_id")
    list_filter = ("action", "target_type")
    search_fields = ("actor_username", "action", "target_id")
    ordering = ("-id",)
    fields = ("occurred_at", "actor", "actor_username", "action", "target_type", "target_id", "data")
    # The log grows without bound: skip the unfiltered COUNT(*) on every page.
    show_full_result_count = False
