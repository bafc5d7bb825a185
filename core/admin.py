"""The Django admin is a read-only window on Flux: every change goes through the services (and
their audit), never through an admin form. Each app's admin builds on these two classes; who sees
which model is the role's view permission (identity/permissions.py)."""

from django.contrib import admin


class ReadOnlyModelAdmin(admin.ModelAdmin):
    """View only: no add, no change, no delete, for everyone (superusers included)."""

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
