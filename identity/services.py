"""Identity operations: customer onboarding, sign-in and sign-out, each audited."""

from __future__ import annotations

import re

from django.contrib.auth import authenticate, login, logout, password_validation, update_session_auth_hash
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken

from audit import actions
from audit.services import audit_record
from core.errors import ApplicationError, ValidationFailed
from identity import lockout, password_links, tokens, two_factor
from identity.models import EMAIL_UNIQUE, Role, TokenChannel, User
from identity.permissions import require_staff


def taken(error: IntegrityError) -> ValidationFailed:
    """The field error for a unique name a concurrent request took between the check and the
    insert (the database's constraints, identity.models: the email, else the username)."""
    if EMAIL_UNIQUE in str(error):
        return ValidationFailed({"email": [_("A user with this email already exists.")]})
    return ValidationFailed({"username": [_("This username is taken.")]})


def customer_create(
    *,
    actor: User,
    username: str,
    first_name: str,
    last_name: str,
    email: str,
    password: str | None = None,
    phone: str = "",
    address: str = "",
    base_url: str = "",
) -> User:
    """Onboard a customer. With a `password` (an integrator's own onboarding, where the customer
    typed it), that password, checked by the password rules. Without one, the customer gets an
    unusable password and a one-time link by mail to choose their own (identity.password_links; the
    link starts with `base_url`, by default password_links.public_base_url()): no member of staff
    ever sees a customer's password. Every customer has an email address, so the link always has
    somewhere to go. Audited as `customer.created` (with `password_link` when one was mailed).

    Errors: permission_denied (not staff), validation_error (username or email taken, weak password,
    malformed email, missing names).
    """
    require_staff(actor, "Only bank staff may onboard customers.")
    username = (username or "").strip()
    email = (email or "").strip().lower()
    errors: dict[str, list[str]] = {}
    if not username:
        errors["username"] = ["Choose a username."]
    elif User.objects.filter(username__iexact=username).exists():
        errors["username"] = ["This username is taken."]
    try:
        validate_email(email)
    except DjangoValidationError:
        errors["email"] = ["Enter a valid email address."]
    else:
        if User.objects.filter(email__iexact=email).exists():
            errors["email"] = ["A user with this email already exists."]
    for field, value in (("first_name", first_name), ("last_name", last_name)):
        if not (value or "").strip():
            errors[field] = ["This field is required."]
    send_link = password is None or password == ""
    if not send_link:
        candidate = User(username=username, email=email, first_name=first_name, last_name=last_name)
        try:
            password_validation.validate_password(password, candidate)
        except DjangoValidationError as exc:
            errors["password"] = list(exc.messages)
    if errors:
        raise ValidationFailed(errors)
    try:
        with transaction.atomic():
            customer = User.objects.create_user(
                username=username,
                email=email,
                password=None if send_link else password,  # None: an unusable password
                first_name=first_name.strip(),
                last_name=last_name.strip(),
                phone=(phone or "").strip(),
                address=(address or "").strip(),
                role=Role.CUSTOMER,
            )
            if send_link:
                password_links.mail_password_link(user=customer, base_url=base_url or password_links.public_base_url())
            audit_record(
                actor=actor,
                action=actions.CUSTOMER_CREATED,
                target_type="customer",
                target_id=customer.pk,
                data={"username": customer.username, "email": customer.email, "password_link": send_link},
            )
    except IntegrityError as error:  # a concurrent request took the username or the email
        raise taken(error) from None
    return customer


def token_obtain(*, username: str, password: str, otp: str | None = None, request=None) -> dict[str, str]:
    """Check credentials and issue a JWT pair, the first of a new token family (identity/tokens.py:
    rotation, reuse detection). Success and failure are both audited. Failures count
    towards the lockout (identity/lockout.py); staff also send a TOTP `otp` when FLUX_REQUIRE_2FA
    is on (identity/two_factor.py).
    Errors: not_authenticated (wrong username or password, or an inactive user), locked_out (429:
    too many failures for this username), otp_required / otp_invalid (staff, 401)."""
    request = request if request is not None else HttpRequest()  # the lockout needs one to count
    user = authenticate(request, username=username, password=password)
    if user is None or not user.is_active:
        if lockout.sign_in_failed(request=request, username=username, channel="api"):
            raise ApplicationError("locked_out", lockout.lockout_message())
        raise ApplicationError("not_authenticated", "Wrong username or password.")
    two_factor.api_second_factor_check(request=request, user=user, code=otp)
    lockout.clear_failures(username=user.get_username())
    with transaction.atomic():
        pair = tokens.token_pair_issue(user=user, channel=TokenChannel.API)
        User.objects.filter(pk=user.pk).update(last_login=timezone.now())
        audit_record(
            actor=user,
            action=actions.AUTH_LOGIN,
            target_type="user",
            target_id=user.pk,
            data={"channel": "api"},
        )
    return pair


def token_logout(*, user: User, refresh: str) -> None:
    """Blacklist a refresh token of the signed-in user, so it can never be used again.
    Errors: validation_error (not a valid refresh token of this user)."""
    try:
        token = RefreshToken(refresh)
    except TokenError:
        raise ValidationFailed({"refresh": ["This refresh token is not valid or already revoked."]}) from None
    if str(token.get("user_id")) != str(user.pk):
        raise ValidationFailed({"refresh": ["This refresh token is not valid or already revoked."]})
    with transaction.atomic():
        token.blacklist()
        audit_record(actor=user, action=actions.AUTH_LOGOUT, target_type="user", target_id=user.pk, data={})


# --- Pages: session sign-in ---------------------------------------------------------------------


def session_login(*, request: HttpRequest, user: User) -> None:
    """Sign `user` in to the pages (a new session) and audit it, channel "web". The caller has
    checked the credentials (the sign-in form, with `authenticate`)."""
    with transaction.atomic():
        login(request, user)
        audit_record(
            actor=user,
            action=actions.AUTH_LOGIN,
            target_type="user",
            target_id=user.pk,
            data={"channel": "web"},
        )


def session_logout(*, request: HttpRequest) -> None:
    """End the page session and audit it. The JWT pairs the session was handed for the app (POST
    /app/token/) are revoked with it: refresh and access tokens stop working now, not in a day
    (the audit event counts the refresh tokens as `app_tokens_revoked`). Signing out without being
    signed in does nothing but clear the session."""
    user = request.user
    with transaction.atomic():
        revoked = tokens.session_families_revoke(session_key=request.session.session_key,
                                                 reason=tokens.REVOKED_SIGNED_OUT)
        if user.is_authenticated:
            data: dict = {"channel": "web"}
            if revoked:
                data["app_tokens_revoked"] = revoked
            audit_record(
                actor=user,
                action=actions.AUTH_LOGOUT,
                target_type="user",
                target_id=user.pk,
                data=data,
            )
        logout(request)


# --- Customers: their own contact details and password --------------------------------------------

PHONE_RE = re.compile(r"\A\+?[0-9 ().-]{6,32}\Z")
ADDRESS_MAX_LENGTH = 500


def customer_update_contact(
    *, customer: User, email: str, phone: str = "", address: str = "", actor: User | None = None
) -> User:
    """A customer changes their own email, phone and address, or a member of staff (`actor`) does
    it for them at the desk. Audited as `customer.updated` by whoever did it, with the names of the
    fields that changed (nothing changed: nothing written, no event).

    Errors: permission_denied (not a customer, or an actor who is not staff), validation_error
    (malformed or taken email, malformed phone, address too long)."""
    if not getattr(customer, "is_customer", False):
        raise ApplicationError("permission_denied", _("Only customers have contact details here."))
    if actor is not None and actor.pk != customer.pk and not getattr(actor, "is_bank_staff", False):
        raise ApplicationError("permission_denied", _("Only bank staff may change a customer's details."))
    email = (email or "").strip().lower()
    phone = " ".join((phone or "").split())
    address = "\n".join(line.strip() for line in (address or "").strip().splitlines() if line.strip())
    errors: dict[str, list[str]] = {}
    try:
        validate_email(email)
    except DjangoValidationError:
        errors["email"] = [_("Enter a valid email address.")]
    else:
        if User.objects.filter(email__iexact=email).exclude(pk=customer.pk).exists():
            errors["email"] = [_("Another user has this email address.")]
    if phone and not PHONE_RE.match(phone):
        errors["phone"] = [_("Enter a phone number with digits, spaces and an optional leading +.")]
    if len(address) > ADDRESS_MAX_LENGTH:
        errors["address"] = [_("Keep the address to %(max)d characters at most.") % {"max": ADDRESS_MAX_LENGTH}]
    if errors:
        raise ValidationFailed(errors)
    try:
        return _contact_save(actor=actor, customer=customer, email=email, phone=phone, address=address)
    except IntegrityError as error:  # a concurrent request took the email
        raise taken(error) from None


def _contact_save(*, actor, customer: User, email: str, phone: str, address: str) -> User:
    with transaction.atomic():
        current = User.objects.select_for_update().get(pk=customer.pk)
        wanted = {"email": email, "phone": phone, "address": address}
        changed = {field: value for field, value in wanted.items() if getattr(current, field) != value}
        if changed:
            for field, value in changed.items():
                setattr(current, field, value)
            current.save(update_fields=list(changed))
            audit_record(
                actor=actor or customer,
                action=actions.CUSTOMER_UPDATED,
                target_type="customer",
                target_id=customer.pk,
                # Which fields, not their values: the audit log travels over NATS and is kept for good.
                data={"changed": sorted(changed)},
            )
    for field, value in wanted.items():
        setattr(customer, field, value)
    return customer


def password_change_checked(*, user: User, old_password: str, new_password: str, channel: str) -> None:
    """Change the user's password after checking the current one and then the password rules
    (AUTH_PASSWORD_VALIDATORS), as Django's PasswordChangeForm does for the page: what the API
    calls. Errors: validation_error (old_password, else new_password)."""
    if not user.check_password(old_password):
        raise ValidationFailed({"old_password": ["This is not your current password."]})
    try:
        password_validation.validate_password(new_password, user)
    except DjangoValidationError as error:
        raise ValidationFailed({"new_password": list(error.messages)}) from None
    password_change(request=None, user=user, new_password=new_password, channel=channel)


def password_change(*, request: HttpRequest | None, user: User, new_password: str, channel: str = "web") -> None:
    """Set a new password for the signed-in user (the caller checked the old one and the password
    rules, e.g. with Django's PasswordChangeForm). The page's own session (`request`) stays signed
    in; the user's other sessions end (their session hash no longer matches) and every API refresh
    token they hold is revoked (from the API, `request` is None: the caller's access token works
    until it expires, minutes later). Audited as `auth.password_changed` with the channel."""
    with transaction.atomic():
        user.set_password(new_password)
        user.save(update_fields=["password"])
        outstanding = OutstandingToken.objects.filter(user=user).exclude(blacklistedtoken__isnull=False)
        BlacklistedToken.objects.bulk_create(
            [BlacklistedToken(token=token) for token in outstanding], ignore_conflicts=True
        )
        audit_record(actor=user, action=actions.AUTH_PASSWORD_CHANGED, target_type="user", target_id=user.pk,
                     data={"channel": channel})
    if request is not None:
        update_session_auth_hash(request, user)
