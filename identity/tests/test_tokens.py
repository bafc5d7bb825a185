"""JWT families (identity/tokens.py): rotation gives one pair per refresh token, and a rotated
refresh token sent again revokes its whole family (refresh and access tokens), audited as
`auth.token_reused`. Concurrent refreshes: test_tokens_concurrency.py."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from audit import actions
from audit.models import AuditEvent
from core.testing.api import API, assert_error
from core.testing.request_ids import request_data
from core.testing.users import TEST_PASSWORD
from identity.models import FamilyRefreshToken, TokenChannel, TokenFamily, User
from identity.tokens import FAMILY_CLAIM

pytestmark = pytest.mark.django_db

TOKEN = f"{API}auth/token/"
REFRESH = f"{API}auth/token/refresh/"
LOGOUT = f"{API}auth/logout/"
ME = f"{API}me/"


def sign_in(user: User) -> dict:
    response = APIClient().post(TOKEN, {"username": user.username, "password": TEST_PASSWORD}, format="json")
    assert response.status_code == 200, response.content
    return response.json()


def refresh(token: str):
    return APIClient().post(REFRESH, {"refresh": token}, format="json")


def me(access: str):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    return client.get(ME)


def token_state() -> dict:
    """What a refusal must leave as it was: the tokens, the blacklist, the families, the audit."""
    return {
        "outstanding": sorted(OutstandingToken.objects.values_list("jti", flat=True)),
        "blacklisted": sorted(BlacklistedToken.objects.values_list("token__jti", flat=True)),
        "families": sorted(TokenFamily.objects.values_list("pk", "revoked_at")),
        "links": sorted(FamilyRefreshToken.objects.values_list("token__jti", "rotated_at")),
        "audit": list(AuditEvent.objects.order_by("pk").values_list("pk", "action")),
    }


def test_a_sign_in_starts_a_family_that_both_tokens_carry(alice):
    pair = sign_in(alice)

    family = TokenFamily.objects.get()
    assert (family.user, family.channel, family.revoked_at) == (alice, TokenChannel.API, None)
    assert RefreshToken(pair["refresh"])[FAMILY_CLAIM] == family.pk.hex
    assert AccessToken(pair["access"])[FAMILY_CLAIM] == family.pk.hex
    link = FamilyRefreshToken.objects.get()
    assert link.family == family and link.token.jti == RefreshToken(pair["refresh"])["jti"]
    assert link.token.user == alice and link.rotated_at is None


def test_rotation_stays_in_the_family_and_marks_the_old_token_rotated(alice):
    first = sign_in(alice)

    second = refresh(first["refresh"]).json()

    family = TokenFamily.objects.get()
    assert RefreshToken(second["refresh"])[FAMILY_CLAIM] == family.pk.hex
    old = FamilyRefreshToken.objects.get(token__jti=RefreshToken(first["refresh"], verify=False)["jti"])
    assert old.rotated_at is not None and BlacklistedToken.objects.filter(token=old.token).exists()
    assert me(second["access"]).status_code == 200
    assert me(first["access"]).status_code == 200  # the family lives on: its older access token too


def test_reusing_a_rotated_token_revokes_the_whole_family_and_is_audited(alice):
    first = sign_in(alice)
    other_device = sign_in(alice)  # another sign-in: another family, untouched
    second = refresh(first["refresh"]).json()
    third = refresh(second["refresh"]).json()
    tokens_before = OutstandingToken.objects.count()

    assert_error(refresh(first["refresh"]), 401, "not_authenticated")

    # Every descendant stops working, refresh and access tokens alike...
    assert_error(refresh(third["refresh"]), 401, "not_authenticated")
    for access in (first["access"], second["access"], third["access"]):
        assert_error(me(access), 401, "not_authenticated")
    # ...and no pair came out of it.
    assert OutstandingToken.objects.count() == tokens_before
    family = TokenFamily.objects.get(pk=RefreshToken(first["refresh"], verify=False)[FAMILY_CLAIM])
    assert family.revoked_at is not None and family.revoked_reason == "reuse"
    assert not OutstandingToken.objects.filter(family_link__family=family, blacklistedtoken__isnull=True).exists()
    [event] = AuditEvent.objects.filter(action=actions.AUTH_TOKEN_REUSED)
    assert (event.actor, event.target_type, event.target_id) == (None, "user", str(alice.pk))
    assert request_data(event) == {"family": family.pk.hex, "channel": "api", "revoked_tokens": 1}
    # The other sign-in is not touched.
    assert me(other_device["access"]).status_code == 200
    assert refresh(other_device["refresh"]).status_code == 200


def test_a_second_reuse_changes_nothing_more(alice):
    first = sign_in(alice)
    refresh(first["refresh"])
    refresh(first["refresh"])  # the reuse: family revoked
    before = token_state()

    assert_error(refresh(first["refresh"]), 401, "not_authenticated")

    assert token_state() == before  # no second revocation, no second event


def test_a_refused_refresh_changes_nothing(alice):
    pair = sign_in(alice)
    tampered = pair["refresh"][:-2] + ("AA" if not pair["refresh"].endswith("AA") else "BB")
    before = token_state()

    for sent in (tampered, pair["access"], "not-a-token"):
        assert_error(refresh(sent), 401, "not_authenticated")

    assert token_state() == before


def test_a_deactivated_user_cannot_refresh_and_nothing_is_issued(alice):
    pair = sign_in(alice)
    User.objects.filter(pk=alice.pk).update(is_active=False)
    before = token_state()

    assert_error(refresh(pair["refresh"]), 401, "not_authenticated")

    assert token_state() == before


def test_logout_still_works_and_is_not_taken_for_a_reuse(alice):
    pair = sign_in(alice)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {pair['access']}")

    assert client.post(LOGOUT, {"refresh": pair["refresh"]}, format="json").status_code == 204

    assert_error(refresh(pair["refresh"]), 401, "not_authenticated")
    assert not AuditEvent.objects.filter(action=actions.AUTH_TOKEN_REUSED).exists()
    assert TokenFamily.objects.get().revoked_at is None


def test_a_refresh_token_from_before_families_is_adopted_at_its_rotation(alice):
    legacy = RefreshToken.for_user(alice)  # no `fam` claim, no link
    assert FAMILY_CLAIM not in legacy.payload

    response = refresh(str(legacy))

    assert response.status_code == 200
    successor = RefreshToken(response.json()["refresh"])
    family = TokenFamily.objects.get()
    assert successor[FAMILY_CLAIM] == family.pk.hex and family.user == alice
    assert_error(refresh(str(legacy)), 401, "not_authenticated")
    assert me(str(legacy.access_token)).status_code == 200  # its access token: no family to revoke


def test_the_family_check_adds_no_query_to_an_authenticated_request(alice):
    with_family = sign_in(alice)["access"]
    without_family = str(RefreshToken.for_user(alice).access_token)

    counts = []
    for access in (with_family, without_family):
        with CaptureQueriesContext(connection) as queries:
            assert me(access).status_code == 200
        counts.append(len(queries))

    assert counts[0] == counts[1]
