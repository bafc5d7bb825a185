"""The Django admin is a read-only window on Flux: every change goes through the services (and
their audit), never through an admin form. Who sees which model is the role's view permission
(identity/permissions.py: the audit events are for supervisors only)."""

from django.contrib import admin

from audit.models import AuditEvent


class ReadOnlyModelAdmin(admin.ModelAdmin):
    """View only: no add, no change, no delete, for everyone (superusers included).

    It lives in the audit app because identity and banking already depend on audit; a shared
    `core/admin.py` would be its natural home.
    """

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class ReadOnlyTabularInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyModelAdmin):
    list_display = ("id", "occurred_at", "actor_username", "action", "target_type", "target_id")
    list_filter = ("action", "target_type")
    search_fields = ("actor_username", "action", "target_id")
    ordering = ("-id",)
    fields = ("occurred_at", "actor", "actor_username", "action", "target_type", "target_id", "data")
    # The log grows without bound: skip the unfiltered COUNT(*) on every page.
    show_full_result_count = False
