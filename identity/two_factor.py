"""Two-factor sign-in for staff (django-otp TOTP devices).

When FLUX_REQUIRE_2FA is on, an agent or supervisor proves a current TOTP code on top of their
password: on the pages after the password (the session is then "verified", django-otp's
OTPMiddleware reads it back as `request.user.is_verified()`), on the API with the `otp` field of
POST auth/token/. Staff pages refuse an unverified staff session (identity.middleware and
identity.decorators.staff_required). Customers are never asked."""

from __future__ import annotations

import segno
from django.conf import settings
from django.db import transaction
from django.http import HttpRequest
from django.utils.translation import gettext as _
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from audit import actions
from audit.services import audit_record
from core.errors import ApplicationError
from identity import lockout
from identity.models import User
from identity.permissions import require_staff

DEVICE_NAME = "Flux"


def two_factor_required(user) -> bool:
    """Must this user give a TOTP code to sign in? Staff, when FLUX_REQUIRE_2FA is on."""
    return bool(settings.FLUX_REQUIRE_2FA and getattr(user, "is_bank_staff", False))


def confirmed_device(user: User) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()


def session_verified(request: HttpRequest, user) -> bool:
    is_verified = getattr(user, "is_verified", None)
    return bool(is_verified and is_verified())


def normalise_code(code: str | None) -> str:
    """Authenticator apps show "123 456"; accept that as typed."""
    return "".join((code or "").split())


def refuse_if_throttled(device: TOTPDevice) -> None:
    """django-otp makes a device wait 1, 2, 4... seconds after each wrong code; say so rather than
    calling the next code wrong. Errors: otp_invalid."""
    allowed, _details = device.verify_is_allowed()
    if not allowed:
        raise ApplicationError("otp_invalid", _("Too many wrong codes in a row: wait a few seconds, then type the "
                                                "code your app shows."))


def code_matches(device: TOTPDevice, code: str | None) -> bool:
    code = normalise_code(code)
    # verify_token refuses a code already used (replay) and slows down after failures.
    return code.isdigit() and len(code) == device.digits and device.verify_token(code)


def qr_code_svg(url: str) -> str:
    """The otpauth:// URL as an inline SVG QR code (segno; no image library, nothing fetched)."""
    return segno.make(url, error="m").svg_inline(scale=5, border=2, dark="#0f172a", light="#ffffff",
                                                 title=_("QR code for your authenticator app"))


# --- Services -------------------------------------------------------------------------------------


def totp_enrolment_start(*, user: User) -> TOTPDevice:
    """The device a staff member is enrolling: their one unconfirmed TOTP device, made on the first
    visit and kept (the same secret) until they confirm a code, so a reload does not change the QR
    code they may have scanned. Errors: permission_denied (not staff), already_enrolled."""
    require_staff(user, _("Two-factor sign-in is for the bank's staff."))
    with transaction.atomic():
        User.objects.select_for_update().filter(pk=user.pk).first()  # one enrolment at a time per user
        if TOTPDevice.objects.filter(user=user, confirmed=True).exists():
            raise ApplicationError("already_enrolled", _("Two-factor sign-in is already set up."))
        device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
        if device is None:
            device = TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)
    return device


def totp_enrolment_confirm(*, request: HttpRequest, user: User, code: str) -> TOTPDevice:
    """Confirm the device being enrolled with a first code from the app; the session is then
    verified. Audited as `auth.2fa_enrolled`. Errors: otp_invalid (wrong code, or too soon after
    one), permission_denied, already_enrolled."""
    device = totp_enrolment_start(user=user)
    refuse_if_throttled(device)
    if not code_matches(device, code):
        raise ApplicationError("otp_invalid", _("That code is not the current one: check the time on your phone "
                                                "and type the 6 digits your app shows now."))
    with transaction.atomic():
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        TOTPDevice.objects.filter(user=user, confirmed=False).delete()
        audit_record(actor=user, action=actions.AUTH_2FA_ENROLLED, target_type="user", target_id=user.pk,
                     data={"device": "totp"})
    otp_login(request, device)
    return device


def session_verify(*, request: HttpRequest, user: User, code: str) -> bool:
    """The second step of a page sign-in: a current code from the user's confirmed device marks the
    session verified. A wrong code counts as a failed sign-in (lockout) and is audited as
    `auth.login_failed` (reason otp_invalid). Returns whether the user is now locked out, in
    which case the caller signs them out.
    Errors: otp_invalid (wrong code), otp_required (no confirmed device)."""
    device = confirmed_device(user)
    if device is None:
        raise ApplicationError("otp_required", _("Set up two-factor sign-in first."))
    refuse_if_throttled(device)
    if code_matches(device, code):
        otp_login(request, device)
        return False
    lockout.count_failure(request=request, username=user.get_username())
    if lockout.sign_in_failed(request=request, username=user.get_username(), channel="web", reason="otp_invalid"):
        return True
    raise ApplicationError("otp_invalid", _("Wrong code: type the 6 digits your app shows now."))


def api_second_factor_check(*, request: HttpRequest, user: User, code: str | None) -> None:
    """For POST auth/token/: a staff member whose password was right must also send a current
    `otp` when two-factor sign-in is required. Missing (or no confirmed device yet) -> 401
    otp_required; wrong -> 401 otp_invalid, counted towards the lockout (429 locked_out once it
    starts). Both audited as `auth.login_failed` with the reason."""
    if not two_factor_required(user):
        return
    device = confirmed_device(user)
    username = user.get_username()
    if device is None:
        lockout.sign_in_failed(request=request, username=username, channel="api", reason="otp_required")
        raise ApplicationError("otp_required", _("Staff sign in with a code from their authenticator app: set up "
                                                 "two-factor sign-in on the web pages first."))
    if not normalise_code(code):
        lockout.sign_in_failed(request=request, username=username, channel="api", reason="otp_required")
        raise ApplicationError("otp_required", _("Send the current code from your authenticator app as `otp`."))
    if not code_matches(device, code):
        lockout.count_failure(request=request, username=username)
        if lockout.sign_in_failed(request=request, username=username, channel="api", reason="otp_invalid"):
            raise ApplicationError("locked_out", lockout.lockout_message())
        raise ApplicationError("otp_invalid", _("Wrong code: send the 6 digits your app shows now."))
