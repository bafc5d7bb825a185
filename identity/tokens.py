"""JWT pairs in families: issue, rotate, revoke.

Each sign-in (POST auth/token/) and each page session that asks for the app's pair (POST
/app/token/) starts a family (identity.models.TokenFamily). Its id is the `fam` claim of every
refresh and access token it issues; each refresh token is linked to its family
(FamilyRefreshToken) beside simplejwt's OutstandingToken row.

- Rotation (POST auth/token/refresh/): one refresh token yields at most one new pair. The family
  row, then the token's row, are locked (SELECT ... FOR UPDATE, always in that order) and the
  blacklist is read under the lock, so of several concurrent refreshes the first wins and the
  others find the token already rotated.
- Reuse: a rotated refresh token that comes back was copied (stolen, or replayed by a confused
  client). The whole family is revoked: every refresh token blacklisted, the access tokens refused
  by identity.authentication (one EXISTS in the query that already loads the user), and
  `auth.token_reused` audited. Racing refreshes of one token count as reuse too: a client that
  does that signs in again.
- A page session's family is revoked when it signs out (identity.services.session_logout).

simplejwt's own `RefreshToken.for_user()` is not used for what the API hands out: its tokens
belong to no family (identity.authentication still accepts their access tokens; the refresh
service adopts such a refresh token into a new family at its first rotation)."""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken
from rest_framework_simplejwt.utils import datetime_from_epoch, get_md5_hash_password

from audit import actions
from audit.services import audit_record
from core.errors import ApplicationError
from identity.models import FamilyRefreshToken, TokenChannel, TokenFamily, User

FAMILY_CLAIM = "fam"

# Why a family was revoked (TokenFamily.revoked_reason).
REVOKED_REUSE = "reuse"
REVOKED_SIGNED_OUT = "signed_out"


class _SentRefreshToken(RefreshToken):
    """A refresh token as a client sent it: signature, expiry, type and id checked on parsing; the
    blacklist is read later, under the row lock (token_refresh), not here."""

    def check_blacklist(self) -> None:
        return None


def refused() -> ApplicationError:
    return ApplicationError(
        "not_authenticated",
        _("This refresh token is not valid: it has expired, was revoked or was already used. Sign in again."),
    )


def family_id_of(token: Any) -> uuid.UUID | None:
    """The family id a token carries, or None (no claim, or not a UUID)."""
    value = token.get(FAMILY_CLAIM)
    if value is None:
        return None
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


def session_hash(session_key: str | None) -> str:
    """What a family keeps of its page session: a hash of the key (the key itself signs a browser in)."""
    return hashlib.sha256(session_key.encode()).hexdigest() if session_key else ""


def _issue(*, user: User, family: TokenFamily) -> dict[str, str]:
    """A new pair in `family`: the refresh token's OutstandingToken row and its family link are
    written here (in the caller's transaction)."""
    refresh = RefreshToken()  # type, expiry, issued-at and a fresh id
    refresh[api_settings.USER_ID_CLAIM] = str(getattr(user, api_settings.USER_ID_FIELD))
    refresh[FAMILY_CLAIM] = family.pk.hex
    if api_settings.CHECK_REVOKE_TOKEN:  # as simplejwt's for_user() does
        refresh[api_settings.REVOKE_TOKEN_CLAIM] = get_md5_hash_password(user.password)
    outstanding = OutstandingToken.objects.create(
        user=user,
        jti=refresh[api_settings.JTI_CLAIM],
        token=str(refresh),
        created_at=refresh.current_time,
        expires_at=datetime_from_epoch(refresh["exp"]),
    )
    FamilyRefreshToken.objects.create(token=outstanding, family=family)
    # The access token copies the refresh token's claims, `fam` included, and expires relative to
    # the refresh token's issue time; it is issued at that time too (not a few queries later).
    access = refresh.access_token
    access.set_iat(at_time=refresh.current_time)
    return {"access": str(access), "refresh": str(refresh)}


def token_pair_issue(*, user: User, channel: str = TokenChannel.API) -> dict[str, str]:
    """Start a family for `user` and return its first pair. Run inside the caller's atomic block
    when the sign-in writes other rows (token_obtain audits it)."""
    with transaction.atomic():
        family = TokenFamily.objects.create(user=user, channel=channel)
        return _issue(user=user, family=family)


def _family_revoke(*, family: TokenFamily, reason: str) -> int:
    """Revoke a locked family: mark it (its access tokens are refused from now on) and blacklist
    every refresh token of it not yet blacklisted. Returns how many refresh tokens this revoked."""
    family.revoked_at = timezone.now()
    family.revoked_reason = reason
    family.save(update_fields=["revoked_at", "revoked_reason"])
    live = OutstandingToken.objects.filter(family_link__family=family, blacklistedtoken__isnull=True)
    return len(BlacklistedToken.objects.bulk_create([BlacklistedToken(token=token) for token in live],
                                                    ignore_conflicts=True))


def _rotate(sent: _SentRefreshToken) -> dict[str, str] | None:
    """The work of token_refresh, inside its atomic block: the new pair, or None for a refusal
    (after revoking the family when the refusal is a reuse)."""
    family = None
    if FAMILY_CLAIM in sent.payload:
        family_id = family_id_of(sent)
        family = TokenFamily.objects.select_for_update().filter(pk=family_id).first() if family_id else None
        if family is None:
            return None
    outstanding = OutstandingToken.objects.select_for_update().filter(jti=sent[api_settings.JTI_CLAIM]).first()
    if outstanding is None:  # not issued here, or already purged (flushexpiredtokens)
        return None
    link = FamilyRefreshToken.objects.filter(token=outstanding).first() if family is not None else None
    if family is not None and (link is None or link.family_id != family.pk):
        return None
    if BlacklistedToken.objects.filter(token=outstanding).exists():
        if link is not None and link.rotated_at is not None and family.revoked_at is None:
            revoked = _family_revoke(family=family, reason=REVOKED_REUSE)
            audit_record(
                actor=None,
                action=actions.AUTH_TOKEN_REUSED,
                target_type="user",
                target_id=family.user_id,
                data={"family": family.pk.hex, "channel": family.channel, "revoked_tokens": revoked},
            )
        return None
    if family is not None and family.revoked_at is not None:
        return None
    user = User.objects.filter(**{api_settings.USER_ID_FIELD: sent.get(api_settings.USER_ID_CLAIM)}).first()
    if user is None or not api_settings.USER_AUTHENTICATION_RULE(user):
        return None
    if family is None:  # a refresh token from before families: its successors start one
        family = TokenFamily.objects.create(user=user, channel=TokenChannel.API)
    BlacklistedToken.objects.create(token=outstanding)
    if link is not None:
        link.rotated_at = timezone.now()
        link.save(update_fields=["rotated_at"])
    return _issue(user=user, family=family)


def token_refresh(*, refresh: str) -> dict[str, str]:
    """Exchange a refresh token for a new pair of its family; the one sent stops working
    (rotation). At most one pair per refresh token, however many requests race with it.

    A refresh token already rotated that comes back revokes its whole family (every refresh
    token blacklisted, every access token refused) and is audited as `auth.token_reused`; the
    revocation commits before the refusal is answered.

    Errors: not_authenticated (malformed, expired, blacklisted, rotated or revoked token, a family
    that was revoked, an unknown or inactive user)."""
    try:
        sent = _SentRefreshToken(refresh)
    except TokenError:
        raise refused() from None
    with transaction.atomic():
        pair = _rotate(sent)
    if pair is None:
        raise refused()
    return pair


# --- The app's pair for a page session --------------------------------------------------------------


def session_token_pair(*, request: HttpRequest) -> dict[str, str]:
    """A JWT pair for the signed-in user of this page session (POST /app/token/), in the
    session's family: one family per session, started at its first pair, so signing out revokes
    everything the session was handed (identity.services.session_logout). The caller checked
    that the user may have one (a customer)."""
    if not request.session.session_key:
        request.session.save()  # a key to bind the family to
    bound_to = session_hash(request.session.session_key)
    with transaction.atomic():
        family = (
            TokenFamily.objects.select_for_update()
            .filter(user=request.user, channel=TokenChannel.APP, session_hash=bound_to, revoked_at__isnull=True)
            .order_by("created_at")
            .first()
        )
        if family is None:
            family = TokenFamily.objects.create(user=request.user, channel=TokenChannel.APP, session_hash=bound_to)
        return _issue(user=request.user, family=family)


def session_families_revoke(*, session_key: str | None, reason: str) -> int:
    """Revoke every family handed to the page session `session_key` (inside the caller's atomic
    block). Returns how many refresh tokens this revoked."""
    if not session_key:
        return 0
    families = TokenFamily.objects.select_for_update().filter(
        session_hash=session_hash(session_key), revoked_at__isnull=True
    ).order_by("pk")
    return sum(_family_revoke(family=family, reason=reason) for family in families)
