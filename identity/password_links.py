"""The one-time link with which a person chooses their own password, so that no member of staff ever
learns another person's credential: a new member of staff, or a customer onboarded without a
password, is created with an unusable password and gets this link by mail.

The link carries Django's password-reset token (django.contrib.auth.tokens): it signs the user's
password hash, last sign-in and email, so it stops working once used (the hash changes), when a
newer link is sent (the unusable hash is drawn again) and after PASSWORD_RESET_TIMEOUT. The page it
opens is identity.views.PasswordSetView. The mail leaves after the transaction that created the
user commits, never for a user that was rolled back."""

from __future__ import annotations

import logging

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.core.mail import EmailMessage
from django.db import transaction
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext as _
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from audit import actions
from audit.services import audit_record
from core.errors import ApplicationError
from identity.models import User

logger = logging.getLogger(__name__)

DEFAULT_PUBLIC_URL = "http://localhost:8000"


def public_base_url(request: HttpRequest | None = None) -> str:
    """Where links in mails point: FLUX_PUBLIC_URL when set, else the site the request came to (its
    host is checked against ALLOWED_HOSTS, so a forged Host header cannot redirect the link), else
    localhost (commands)."""
    if settings.FLUX_PUBLIC_URL:
        return settings.FLUX_PUBLIC_URL
    if request is not None:
        return request.build_absolute_uri("/").rstrip("/")
    return DEFAULT_PUBLIC_URL


def link_days() -> int:
    """How many days a link works (PASSWORD_RESET_TIMEOUT), as mails and pages say it."""
    return max(1, settings.PASSWORD_RESET_TIMEOUT // 86400)


def password_link(user: User, *, base_url: str) -> str:
    """The absolute one-time link for `user`, valid for their current password hash."""
    path = reverse("password-set", kwargs={
        "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
        "token": default_token_generator.make_token(user),
    })
    return f"{base_url.rstrip('/')}{path}"


def mail_password_link(*, user: User, base_url: str, language: str | None = None) -> None:
    """Mail `user` their link once the current transaction commits, in `language` (by default the
    language of the request that asked: the member of staff's). Call it after the user's password
    hash is final. A mail that cannot be sent is logged (without the link) and does not undo the
    user: a member of staff sends a new link (password_link_resend)."""
    if not user.email:
        raise ApplicationError("validation_error", _("%(username)s has no email address to send the link to.")
                               % {"username": user.username})
    link = password_link(user, base_url=base_url)
    language = language or translation.get_language() or settings.LANGUAGE_CODE
    with translation.override(language):
        subject = _("Choose your Flux password")
        body = render_to_string("identity/mail/password_link.txt", {
            "user": user, "link": link, "staff": user.is_bank_staff, "days": link_days(),
        })
    message = EmailMessage(subject=subject, body=body, from_email=settings.DEFAULT_FROM_EMAIL, to=[user.email])
    user_id = user.pk

    def send() -> None:
        try:
            message.send()
        except Exception:  # the SMTP relay refused or is down; never log the message (it holds the link)
            logger.exception("The password link for user #%s could not be mailed.", user_id)

    transaction.on_commit(send)


def password_link_resend(*, actor: User, user: User, base_url: str) -> User:
    """Mail `user` (a member of staff or a customer) a new link to choose their password, while they
    have none (the first link was lost, or expired after PASSWORD_RESET_TIMEOUT). Older links stop
    working. Supervisors only: an agent can change a customer's email at the desk, and must not
    also be able to send that customer's link to the new address. Audited as
    `auth.password_link_sent`, with the address it went to.

    Errors: permission_denied (not a supervisor), validation_error (the user has already chosen a
    password, is deactivated, or has no email address)."""
    if not getattr(actor, "is_supervisor", False):
        raise ApplicationError("permission_denied", _("Only supervisors send a new password link."))
    with transaction.atomic():
        current = User.objects.select_for_update().get(pk=user.pk)
        if current.has_usable_password():
            raise ApplicationError("validation_error", _("%(username)s has already chosen a password.")
                                   % {"username": current.username})
        if not current.is_active:
            raise ApplicationError("validation_error", _("%(username)s is deactivated.")
                                   % {"username": current.username})
        # A fresh unusable hash: the links sent before no longer match it.
        current.set_unusable_password()
        current.save(update_fields=["password"])
        mail_password_link(user=current, base_url=base_url)
        audit_record(actor=actor, action=actions.AUTH_PASSWORD_LINK_SENT, target_type="user", target_id=current.pk,
                     data={"username": current.username, "email": current.email})
    return current


def password_set_with_link(*, user: User, new_password: str) -> None:
    """`user` chose their password through their link (the caller checked the token and the
    password rules, e.g. with Django's SetPasswordForm). The link stops working with the old hash;
    any API refresh token they might hold is revoked. Audited as `auth.password_set`."""
    with transaction.atomic():
        user.set_password(new_password)
        user.save(update_fields=["password"])
        outstanding = OutstandingToken.objects.filter(user=user).exclude(blacklistedtoken__isnull=False)
        BlacklistedToken.objects.bulk_create([BlacklistedToken(token=token) for token in outstanding],
                                             ignore_conflicts=True)
        audit_record(actor=user, action=actions.AUTH_PASSWORD_SET, target_type="user", target_id=user.pk,
                     data={"channel": "link"})
