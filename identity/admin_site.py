"""Flux's Django admin site: bank staff come in by their role, not by Django's `is_staff` flag.

The role is the one source of truth for what a member of staff may do (identity.permissions), so
an agent created by the staff service sees the admin exactly as a seeded one, with no flag to set,
and a customer who somehow had `is_staff` does not get in. Installed as the default admin site by
identity.apps.FluxAdminConfig (in INSTALLED_APPS instead of django.contrib.admin)."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.core.exceptions import ValidationError

from identity.permissions import may_open_admin


class StaffAdminAuthenticationForm(AdminAuthenticationForm):
    """The admin's own sign-in page: for whoever may open the admin (Django's checks `is_staff`)."""

    def confirm_login_allowed(self, user) -> None:
        if not may_open_admin(user):
            raise ValidationError(
                self.error_messages["invalid_login"], code="invalid_login",
                params={"username": self.username_field.verbose_name},
            )


class FluxAdminSite(admin.AdminSite):
    login_form = StaffAdminAuthenticationForm

    def has_permission(self, request) -> bool:
        return may_open_admin(request.user)
