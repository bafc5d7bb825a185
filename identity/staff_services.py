"""Agent management (supervisors): create agents (who choose their own password through a link sent
by mail), deactivate and reactivate staff, reset their two-factor sign-in, unlock a locked-out user.
Each operation is audited."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from audit import actions
from audit.services import audit_record
from core.errors import ApplicationError, ValidationFailed
from identity import lockout, password_links
from identity.models import Role, User
from identity.permissions import require_supervisor
from identity.services import taken

USERNAME_MAX_LENGTH = 150


def _require_supervisor(actor) -> None:
    require_supervisor(actor, _("Only supervisors manage the bank's staff."))


def _ensure_staff_member(user: User) -> None:
    """The member of staff a supervisor acts on: anyone else is not_found, as an unknown id."""
    if not user.is_bank_staff:
        raise ApplicationError("not_found", _("No such member of staff."))


def agent_create(
    *, actor: User, username: str, first_name: str, last_name: str, email: str, base_url: str = ""
) -> User:
    """A supervisor creates an agent. The agent gets an unusable password and a one-time link by
    mail to choose their own (identity.password_links; the link starts with `base_url`, by default
    password_links.public_base_url()): no one, the supervisor included, ever learns it. They sign
    in with it and enrol two-factor sign-in at their first sign-in when it is required. Audited as
    `staff.created`, with the address the link went to.

    Errors: permission_denied (not a supervisor), validation_error (username or email taken or
    malformed, missing names)."""
    _require_supervisor(actor)
    username = (username or "").strip()
    email = (email or "").strip().lower()
    first_name, last_name = (first_name or "").strip(), (last_name or "").strip()
    errors: dict[str, list[str]] = {}
    try:
        User.username_validator(username)
    except DjangoValidationError:
        errors["username"] = [_("Use letters, digits and @ . + - _ only.")]
    if not username:
        errors["username"] = [_("Choose a username.")]
    elif len(username) > USERNAME_MAX_LENGTH:
        errors["username"] = [_("Keep the username to 150 characters at most.")]
    elif User.objects.filter(username__iexact=username).exists():
        errors["username"] = [_("This username is taken.")]
    try:
        validate_email(email)
    except DjangoValidationError:
        errors["email"] = [_("Enter a valid email address.")]
    else:
        if User.objects.filter(email__iexact=email).exists():
            errors["email"] = [_("A user with this email already exists.")]
    for field, value in (("first_name", first_name), ("last_name", last_name)):
        if not value:
            errors[field] = [_("This field is required.")]
        elif len(value) > 150:
            errors[field] = [_("Keep it to 150 characters at most.")]
    if errors:
        raise ValidationFailed(errors)
    try:
        with transaction.atomic():
            agent = User.objects.create_user(
                username=username,
                email=email,
                password=None,  # unusable until they choose theirs through the link
                first_name=first_name,
                last_name=last_name,
                role=Role.AGENT,
            )
            password_links.mail_password_link(user=agent, base_url=base_url or password_links.public_base_url())
            audit_record(
                actor=actor,
                action=actions.STAFF_CREATED,
                target_type="user",
                target_id=agent.pk,
                data={"username": agent.username, "role": agent.role, "email": agent.email, "password_link": True},
            )
    except IntegrityError as error:  # a concurrent request took the username or the email
        raise taken(error) from None
    return agent


def staff_deactivate(*, actor: User, user: User) -> User:
    """A supervisor stops a member of staff from signing in: their sessions stop working at the
    next request and every API refresh token they hold is revoked. Audited as
    `staff.deactivated`. Errors: permission_denied (not a supervisor, or themselves), not_found
    (not staff), validation_error (already inactive)."""
    _require_supervisor(actor)
    _ensure_staff_member(user)
    if user.pk == actor.pk:
        raise ApplicationError("permission_denied", _("You cannot deactivate yourself."))
    with transaction.atomic():
        current = User.objects.select_for_update().get(pk=user.pk)
        if not current.is_active:
            raise ApplicationError("validation_error", _("%(username)s is already inactive.")
                                   % {"username": current.username})
        current.is_active = False
        current.save(update_fields=["is_active"])
        outstanding = OutstandingToken.objects.filter(user=current).exclude(blacklistedtoken__isnull=False)
        BlacklistedToken.objects.bulk_create([BlacklistedToken(token=t) for t in outstanding], ignore_conflicts=True)
        audit_record(actor=actor, action=actions.STAFF_DEACTIVATED, target_type="user", target_id=current.pk,
                     data={"username": current.username})
    user.is_active = False
    return user


def staff_reactivate(*, actor: User, user: User) -> User:
    """A supervisor lets a deactivated member of staff sign in again. Audited as
    `staff.reactivated`. Errors: permission_denied, not_found, validation_error (already active)."""
    _require_supervisor(actor)
    _ensure_staff_member(user)
    with transaction.atomic():
        current = User.objects.select_for_update().get(pk=user.pk)
        if current.is_active:
            raise ApplicationError("validation_error", _("%(username)s is already active.")
                                   % {"username": current.username})
        current.is_active = True
        current.save(update_fields=["is_active"])
        audit_record(actor=actor, action=actions.STAFF_REACTIVATED, target_type="user", target_id=current.pk,
                     data={"username": current.username})
    user.is_active = True
    return user


def staff_2fa_reset(*, actor: User, user: User) -> int:
    """A supervisor removes a member of staff's TOTP devices (a lost phone): they enrol again at
    their next sign-in, and a session verified with a removed device is no longer verified.
    Returns how many devices went. Audited as `auth.2fa_reset`.
    Errors: permission_denied, not_found, validation_error (nothing to reset)."""
    _require_supervisor(actor)
    _ensure_staff_member(user)
    with transaction.atomic():
        User.objects.select_for_update().filter(pk=user.pk).first()
        removed, _by_model = TOTPDevice.objects.filter(user=user).delete()
        if not removed:
            raise ApplicationError("validation_error", _("%(username)s has not set up two-factor sign-in.")
                                   % {"username": user.username})
        audit_record(actor=actor, action=actions.AUTH_2FA_RESET, target_type="user", target_id=user.pk,
                     data={"username": user.username, "devices": removed})
    return removed


def staff_unlock(*, actor: User, user: User) -> None:
    """A supervisor ends a lockout (anyone's: staff or customer) before its FLUX_LOCKOUT_MINUTES
    are up, and forgets the failed attempts. Audited as `auth.unlocked`.
    Errors: permission_denied (not a supervisor), validation_error (not locked out)."""
    _require_supervisor(actor)
    with transaction.atomic():
        if not lockout.is_locked_out(username=user.username):
            raise ApplicationError("validation_error", _("%(username)s is not locked out.")
                                   % {"username": user.username})
        lockout.clear_failures(username=user.username)
        audit_record(actor=actor, action=actions.AUTH_UNLOCKED, target_type="user", target_id=user.pk,
                     data={"username": user.username})
