"""Authentication backends: the lockout first, then passwords with permissions from the role."""

from __future__ import annotations

from axes.backends import AxesStandaloneBackend
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Permission
from django.db.models import Q

from identity.permissions import role_permissions, roles_with


class LockoutBackend(AxesStandaloneBackend):
    """django-axes' check that the username is not locked out, for every sign-in that comes with a
    request: the sign-in page, the token endpoint (identity.services.token_obtain always passes
    one) and the admin's sign-in. `authenticate()` without a request (Django's test client
    `login()`, a shell) has nothing to count per attempt, and axes would raise: let it through
    to the password check instead."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


class RoleBackend(ModelBackend):
    """Django's username and password check, with permissions from the role alone
    (identity.permissions): groups and per-user grants are ignored, so nothing but the role (set
    by the staff service) decides what a member of staff may see in the admin. Superusers keep
    every permission, as in Django."""

    def get_user_permissions(self, user_obj, obj=None) -> set[str]:
        return set()

    async def aget_user_permissions(self, user_obj, obj=None) -> set[str]:
        return set()

    def get_group_permissions(self, user_obj, obj=None) -> set[str]:
        return set()

    async def aget_group_permissions(self, user_obj, obj=None) -> set[str]:
        return set()

    def get_all_permissions(self, user_obj, obj=None) -> set[str]:
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if user_obj.is_superuser:
            return {
                f"{app_label}.{codename}"
                for app_label, codename in Permission.objects.values_list("content_type__app_label", "codename")
            }
        return set(role_permissions(user_obj))

    async def aget_all_permissions(self, user_obj, obj=None) -> set[str]:
        if getattr(user_obj, "is_superuser", False):
            return {f"{app_label}.{codename}" async for app_label, codename in
                    Permission.objects.values_list("content_type__app_label", "codename")}
        return self.get_all_permissions(user_obj, obj)

    def with_perm(self, perm, is_active=True, include_superusers=True, obj=None):
        """The users holding `perm`: those whose role grants it (and superusers)."""
        user_model = get_user_model()
        if obj is not None:
            return user_model._default_manager.none()
        if isinstance(perm, Permission):
            perm = f"{perm.content_type.app_label}.{perm.codename}"
        elif not isinstance(perm, str):
            raise TypeError("The `perm` argument must be a string or a permission instance.")
        holders = Q(role__in=roles_with(perm))
        if include_superusers:
            holders |= Q(is_superuser=True)
        if is_active is not None:
            holders &= Q(is_active=is_active)
        return user_model._default_manager.filter(holders)
