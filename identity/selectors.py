"""Reads about users that more than one page needs."""

from __future__ import annotations

from django.db.models import Exists, OuterRef, QuerySet
from django_otp.plugins.otp_totp.models import TOTPDevice

from core.errors import NotFound
from core.ids import parse_id
from identity import lockout
from identity.models import STAFF_ROLES, Role, User


def customer_get(*, customer_id: int | str) -> User:
    """A customer by id (from a URL or a body).

    Raises NotFound for an id that is malformed, unknown or not a customer's (staff are not
    customers)."""
    customer = User.objects.filter(role=Role.CUSTOMER, pk=parse_id(customer_id)).first()
    if customer is None:
        raise NotFound("Customer not found.")
    return customer


def _staff_queryset() -> QuerySet[User]:
    """Agents and supervisors, each with `has_2fa` (a confirmed TOTP device)."""
    return User.objects.filter(role__in=STAFF_ROLES).annotate(
        has_2fa=Exists(TOTPDevice.objects.filter(user=OuterRef("pk"), confirmed=True))
    )


def staff_list() -> list[User]:
    """Agents and supervisors, agents first, by name; each with `has_2fa` (a confirmed TOTP device)
    and `locked_out` (refused right now after too many failed sign-ins)."""
    locked = lockout.locked_out_usernames()
    members = list(_staff_queryset().order_by("role", "last_name", "first_name", "username"))
    for member in members:
        member.locked_out = member.username in locked
    return members


def staff_member_get(*, member_id: int | str) -> User:
    """One agent or supervisor, with `has_2fa` and `locked_out` as staff_list() gives them.

    Raises NotFound for an id that is malformed, unknown or not a member of staff's."""
    member = _staff_queryset().filter(pk=parse_id(member_id)).first()
    if member is None:
        raise NotFound("No such member of staff.")
    member.locked_out = lockout.is_locked_out(username=member.username)
    return member
