"""Reads about users that more than one page needs."""

from __future__ import annotations

from django.db.models import Exists, OuterRef, QuerySet
from django_otp.plugins.otp_totp.models import TOTPDevice

from identity import lockout
from identity.models import STAFF_ROLES, User


def staff_list() -> list[User]:
    """Agents and supervisors, agents first, by name; each with `has_2fa` (a confirmed TOTP device)
    and `locked_out` (refused right now after too many failed sign-ins)."""
    locked = lockout.locked_out_usernames()
    staff: QuerySet[User] = (
        User.objects.filter(role__in=STAFF_ROLES)
        .annotate(has_2fa=Exists(TOTPDevice.objects.filter(user=OuterRef("pk"), confirmed=True)))
        .order_by("role", "last_name", "first_name", "username")
    )
    members = list(staff)
    for member in members:
        member.locked_out = member.username in locked
    return members
