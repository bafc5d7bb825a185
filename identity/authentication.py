"""Bearer authentication for the API: simplejwt's, plus the token family's revocation.

An access token carries its family (identity/tokens.py, the `fam` claim). When the family was
revoked (a rotated refresh token used again, or the page session that minted it signed out), its
access tokens are refused at once instead of living out their FLUX_ACCESS_TOKEN_MINUTES. The check
is a NOT EXISTS on the family's primary key inside the query that already loads the user, so
a request costs no extra round trip (benchmarks/token_auth.py: figures in the commit that added it).
The user model is Flux's own (identity.models.User), which AUTH_USER_MODEL names."""

from __future__ import annotations

import functools
import uuid

from django.core.exceptions import ValidationError
from django.db import connections, router
from django.utils.translation import gettext_lazy as _
from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import AuthenticationFailed, InvalidToken, TokenError
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.tokens import Token
from rest_framework_simplejwt.utils import aware_utcnow, get_md5_hash_password

from core.db.select import select
from identity.models import TokenFamily, User
from identity.tokens import FAMILY_CLAIM, family_id_of


@functools.cache
def _family_live_sql(using: str) -> str:
    """True while the family (the query's first parameter) is not revoked: an EXISTS on its primary key."""
    quote = connections[using].ops.quote_name
    families = TokenFamily._meta
    return (
        f"NOT EXISTS (SELECT 1 FROM {quote(families.db_table)} WHERE {quote(families.pk.column)} = %s"
        f" AND {quote(families.get_field('revoked_at').column)} IS NOT NULL)"
    )


def user_with_family_state(user_id: object, family_id: uuid.UUID) -> User | None:
    """The user `user_id` with `family_revoked` set, or None when there is no such user.

    One query on every request: the user's row where the family is live, written in SQL
    (core/db/select.py) because compiling it through the ORM cost more Python than the query
    itself (benchmarks/token_auth.py, issue 11). No row (a revoked family, or no such user), and a
    second query tells which."""
    using = router.db_for_read(User)
    connection = connections[using]
    id_field = User._meta.get_field(api_settings.USER_ID_FIELD)
    try:
        user_key = id_field.get_db_prep_value(id_field.to_python(user_id), connection)
    except ValidationError:
        return None
    family_key = TokenFamily._meta.pk.get_db_prep_value(family_id, connection)
    by_id = f"{connection.ops.quote_name(id_field.column)} = %s"
    found = select(User, f"{_family_live_sql(using)} AND {by_id}", [family_key, user_key], using=using)
    revoked = not found
    if revoked:
        found = select(User, by_id, [user_key], using=using)
        if not found:
            return None
    user = found[0]
    user.family_revoked = revoked
    return user


# Bearer tokens whose signature and claims were checked, by their exact bytes: the class that
# accepted each and its payload. A client sends the same access token for its whole lifetime, and
# simplejwt decoded and verified it again on every request (PyJWT's decoding and HMAC, its options
# and key checks: about 5 % of a loaded web worker's Python, py-spy, issue 11). The same bytes
# always verify the same way under the same key, so only the time-bound checks (expiry) run again
# at each use. A token refused is never remembered (lru_cache keeps no exception).
@functools.lru_cache(maxsize=10_000)
def _verified(raw_token: bytes) -> tuple[type[Token], dict]:
    token = JWTAuthentication.get_validated_token(FamilyJWTAuthentication(), raw_token)
    return type(token), token.payload


class FamilyJWTAuthentication(JWTAuthentication):
    def get_validated_token(self, raw_token: bytes) -> Token:
        token_class, payload = _verified(raw_token)
        token = token_class.__new__(token_class)  # Token.__init__ would decode it again
        token.token, token.current_time, token.payload = raw_token, aware_utcnow(), dict(payload)
        try:
            token.verify()  # expiry, type and id claims, as at the first use
        except TokenError:
            # Expired since: simplejwt's own path gives the refusal its usual shape.
            return super().get_validated_token(raw_token)
        return token

    def get_user(self, validated_token: Token) -> User:
        if FAMILY_CLAIM not in validated_token.payload:
            return super().get_user(validated_token)  # a token minted outside a family (for_user)
        family_id = family_id_of(validated_token)
        try:
            user_id = validated_token[api_settings.USER_ID_CLAIM]
        except KeyError as exc:
            raise InvalidToken(_("Token contained no recognizable user identification")) from exc
        if family_id is None:
            raise InvalidToken(_("Token is invalid"))
        user = user_with_family_state(user_id, family_id)
        if user is None:
            raise AuthenticationFailed(_("User not found"), code="user_not_found")
        if api_settings.CHECK_USER_IS_ACTIVE and not user.is_active:
            raise AuthenticationFailed(_("User is inactive"), code="user_inactive")
        if api_settings.CHECK_REVOKE_TOKEN and validated_token.get(
            api_settings.REVOKE_TOKEN_CLAIM
        ) != get_md5_hash_password(user.password):
            raise AuthenticationFailed(_("The user's password has been changed."), code="password_changed")
        if user.family_revoked:
            raise AuthenticationFailed(_("This token was revoked: sign in again."), code="token_revoked")
        return user


class FamilyJWTScheme(SimpleJWTScheme):
    """The OpenAPI security scheme: simplejwt's bearer JWT (`jwtAuth`), as before."""

    target_class = "identity.authentication.FamilyJWTAuthentication"
