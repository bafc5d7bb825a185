"""The Django admin is a read-only window on Flux: every change goes through the services (and
their audit), never through an admin form. Each app's admin builds on these two classes; who sees
which model is the role's view permission (identity/permissions.py)."""

from django.contrib import admin


class ViewOnly:
    """No add, no change, no delete, for everyone (superusers included)."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class ReadOnlyModelAdmin(ViewOnly, admin.ModelAdmin):
    """A model's list and detail pages, view only."""


class ReadOnlyTabularInline(ViewOnly, admin.TabularInline):
    """Related rows shown inline, view only, each linking to its own page."""

    extra = 0
    can_delete = False
    show_change_link = True
