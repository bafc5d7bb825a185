"""Lockout after repeated failed sign-ins (django-axes), in Flux's terms.

Axes counts failed sign-ins per username (AXES_LOCKOUT_PARAMETERS) in the database and, once
FLUX_LOCKOUT_FAILURES is reached, its backend (first in AUTHENTICATION_BACKENDS) refuses that
username for FLUX_LOCKOUT_MINUTES, even with the right password. `authenticate()` then returns
None and marks the request; this module reads the mark, audits the refusal and says it in the
pages' and the API's words. Lockouts live in axes' tables, so a supervisor's unlock
(identity.staff_services.staff_unlock) is a delete there."""

from __future__ import annotations

from datetime import timedelta

from axes.handlers.proxy import AxesProxyHandler
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth.signals import user_login_failed
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from audit import actions
from audit.services import audit_record
from identity.models import User


def lockout_message() -> str:
    return _("Too many failed attempts: try again in %(minutes)d minutes.") % {
        "minutes": settings.FLUX_LOCKOUT_MINUTES
    }


def refused_by_lockout(request: HttpRequest | None) -> bool:
    """After a failed `authenticate(request, ...)`: was the username locked out (already, or by
    this very failure)?"""
    return bool(getattr(request, "axes_locked_out", False))


def lockout_started(request: HttpRequest | None) -> bool:
    """This failure was counted and reached the limit: the lockout starts now. (A refusal during
    a lockout is not counted, so axes leaves the failure count unset.)"""
    return refused_by_lockout(request) and getattr(request, "axes_failures_since_start", None) is not None


def count_failure(*, request: HttpRequest, username: str) -> None:
    """Count a failed second step (a wrong TOTP code) like a wrong password: axes listens to
    Django's user_login_failed, which `authenticate()` only sends for the password."""
    user_login_failed.send(sender=__name__, credentials={"username": username}, request=request)


def sign_in_failed(*, request: HttpRequest | None, username: str, channel: str, reason: str = "") -> bool:
    """Audit a refused sign-in: `auth.login_failed` (with the reason when it is not a wrong
    password: "locked_out", "otp_invalid", "otp_required"), and `auth.locked_out` when this
    failure started a lockout. Returns whether the username is now locked out."""
    locked = refused_by_lockout(request)
    started = lockout_started(request)
    if locked and not started and not reason:
        reason = "locked_out"  # the password was not even checked
    target_id = User.objects.filter(username=username).values_list("pk", flat=True).first() or ""
    data = {"username": str(username)[:150], "channel": channel}
    with transaction.atomic():
        audit_record(
            actor=None,
            action=actions.AUTH_LOGIN_FAILED,
            target_type="user",
            target_id=target_id,
            data={**data, "reason": reason} if reason else data,
        )
        if started:
            audit_record(
                actor=None,
                action=actions.AUTH_LOCKED_OUT,
                target_type="user",
                target_id=target_id,
                data={**data, "failures": settings.FLUX_LOCKOUT_FAILURES, "minutes": settings.FLUX_LOCKOUT_MINUTES},
            )
    return locked


def _locked_out_attempts() -> QuerySet[AccessAttempt]:
    """Axes' records of the usernames refused right now: failures at the limit within the cool-off."""
    since = timezone.now() - timedelta(minutes=settings.FLUX_LOCKOUT_MINUTES)
    return AccessAttempt.objects.filter(
        failures_since_start__gte=settings.FLUX_LOCKOUT_FAILURES, attempt_time__gte=since
    )


def locked_out_usernames() -> set[str]:
    """Usernames refused right now (failures at the limit within the cool-off)."""
    return set(_locked_out_attempts().values_list("username", flat=True))


def is_locked_out(*, username: str) -> bool:
    """Is `username` refused right now? One query on that username (see locked_out_usernames)."""
    return _locked_out_attempts().filter(username=username).exists()


def clear_failures(*, username: str) -> int:
    """Forget the failed attempts of `username` (which ends a lockout). Returns how many records
    went."""
    return AxesProxyHandler.reset_attempts(username=username)
