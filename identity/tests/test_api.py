"""The identity part of the REST API v1: tokens, refresh rotation, logout, me/ (the customers'
directory and records: banking/tests/test_api_customers.py)."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from audit import actions
from audit.models import AuditEvent
from core.testing.api import API, assert_error, obtain_tokens
from core.testing.users import TEST_PASSWORD
from identity.models import Role, User
from identity.tests.factories import make_user

pytestmark = pytest.mark.django_db

TOKEN = f"{API}auth/token/"
REFRESH = f"{API}auth/token/refresh/"
LOGOUT = f"{API}auth/logout/"
ME = f"{API}me/"
CUSTOMERS = f"{API}customers/"


def post(client: APIClient, url: str, data: dict):
    return client.post(url, data, format="json")


# --- Token obtain ----------------------------------------------------------------------------


def test_token_obtain_returns_an_access_and_a_refresh_token(alice):
    response = post(APIClient(), TOKEN, {"username": "alice", "password": TEST_PASSWORD})
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"access", "refresh"}
    assert body["access"] and body["refresh"] and body["access"] != body["refresh"]
    me = APIClient()
    me.credentials(HTTP_AUTHORIZATION=f"Bearer {body['access']}")
    assert me.get(ME).json()["username"] == "alice"


def test_token_obtain_success_is_audited(alice):
    post(APIClient(), TOKEN, {"username": "alice", "password": TEST_PASSWORD})
    event = AuditEvent.objects.get(action=actions.AUTH_LOGIN)
    assert event.actor_id == alice.pk
    assert event.target_type == "user" and event.target_id == str(alice.pk)
    assert not AuditEvent.objects.filter(action=actions.AUTH_LOGIN_FAILED).exists()


@pytest.mark.parametrize("username", ["alice", "nobody-by-this-name"])
def test_token_obtain_with_a_bad_password_is_401_and_audited(alice, username):
    response = post(APIClient(), TOKEN, {"username": username, "password": "wrong-password-123"})
    assert_error(response, 401, "not_authenticated")
    event = AuditEvent.objects.get(action=actions.AUTH_LOGIN_FAILED)
    assert event.actor_id is None
    assert event.data["username"] == username
    assert event.target_id == (str(alice.pk) if username == "alice" else "")
    assert not AuditEvent.objects.filter(action=actions.AUTH_LOGIN).exists()


def test_token_obtain_for_an_inactive_user_is_401(alice):
    User.objects.filter(pk=alice.pk).update(is_active=False)
    response = post(APIClient(), TOKEN, {"username": "alice", "password": TEST_PASSWORD})
    assert_error(response, 401, "not_authenticated")


@pytest.mark.parametrize(
    ("data", "fields"),
    [
        ({"password": TEST_PASSWORD}, {"username"}),
        ({"username": "alice"}, {"password"}),
        ({}, {"username", "password"}),
        ({"username": "", "password": ""}, {"username", "password"}),
    ],
)
def test_token_obtain_with_missing_fields_is_a_validation_error(alice, data, fields):
    response = post(APIClient(), TOKEN, data)
    assert_error(response, 400, "validation_error", fields=fields)
    assert not AuditEvent.objects.exists()


def test_token_obtain_refuses_malformed_json(alice):
    response = APIClient().post(TOKEN, data="{not json", content_type="application/json")
    assert_error(response, 400, "validation_error")


def test_token_obtain_refuses_a_form_body(alice):
    response = APIClient().post(TOKEN, {"username": "alice", "password": TEST_PASSWORD})  # multipart
    assert_error(response, 415, "unsupported_media_type")


def test_token_obtain_does_not_accept_get(alice):
    assert_error(APIClient().get(TOKEN), 405, "method_not_allowed")


# --- Refresh rotation ------------------------------------------------------------------------


def test_refresh_rotates_the_pair_and_the_old_refresh_stops_working(alice):
    first = obtain_tokens(alice)
    response = post(APIClient(), REFRESH, {"refresh": first["refresh"]})
    assert response.status_code == 200, response.content
    second = response.json()
    assert set(second) == {"access", "refresh"}
    assert second["refresh"] != first["refresh"]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {second['access']}")
    assert client.get(ME).status_code == 200

    # The new refresh token works (once).
    third = post(APIClient(), REFRESH, {"refresh": second["refresh"]})
    assert third.status_code == 200
    assert_error(post(APIClient(), REFRESH, {"refresh": second["refresh"]}), 401, "not_authenticated")
    # (A rotated refresh token sent again revokes its whole family: identity/tests/test_tokens.py.)


@pytest.mark.parametrize(
    ("data", "status", "code"),
    [
        ({}, 400, "validation_error"),
        ({"refresh": "not-a-token"}, 401, "not_authenticated"),
    ],
)
def test_refresh_refuses_missing_or_bad_tokens(data, status, code, db):
    assert_error(post(APIClient(), REFRESH, data), status, code)


def test_an_access_token_is_not_a_refresh_token(alice):
    tokens = obtain_tokens(alice)
    assert_error(post(APIClient(), REFRESH, {"refresh": tokens["access"]}), 401, "not_authenticated")


# --- Logout ----------------------------------------------------------------------------------


def test_logout_revokes_the_refresh_token_and_is_audited(alice):
    tokens = obtain_tokens(alice)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    response = post(client, LOGOUT, {"refresh": tokens["refresh"]})
    assert response.status_code == 204
    assert response.content == b""
    event = AuditEvent.objects.get(action=actions.AUTH_LOGOUT)
    assert event.actor_id == alice.pk and event.target_id == str(alice.pk)

    assert_error(post(APIClient(), REFRESH, {"refresh": tokens["refresh"]}), 401, "not_authenticated")
    # Logging out twice with the same token is refused.
    assert_error(post(client, LOGOUT, {"refresh": tokens["refresh"]}), 400, "validation_error", fields={"refresh"})


def test_logout_needs_a_signed_in_user(alice):
    tokens = obtain_tokens(alice)
    assert_error(post(APIClient(), LOGOUT, {"refresh": tokens["refresh"]}), 401, "not_authenticated")
    # ...and the token was not revoked.
    assert post(APIClient(), REFRESH, {"refresh": tokens["refresh"]}).status_code == 200


def test_logout_cannot_revoke_another_users_token(alice, bob, api_client_for):
    alice_tokens = obtain_tokens(alice)
    response = post(api_client_for(bob), LOGOUT, {"refresh": alice_tokens["refresh"]})
    assert_error(response, 400, "validation_error", fields={"refresh"})
    assert post(APIClient(), REFRESH, {"refresh": alice_tokens["refresh"]}).status_code == 200
    assert not AuditEvent.objects.filter(action=actions.AUTH_LOGOUT).exists()


@pytest.mark.parametrize(("data", "fields"), [({}, {"refresh"}), ({"refresh": "garbage"}, {"refresh"})])
def test_logout_validates_the_body(alice, api_client_for, data, fields):
    assert_error(post(api_client_for(alice), LOGOUT, data), 400, "validation_error", fields=fields)


# --- me/ -------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.CUSTOMER, Role.AGENT, Role.SUPERVISOR])
def test_me_describes_the_signed_in_user_of_each_role(api_client_for, role, db):
    user = make_user(f"me_{role}", role, first_name="First", last_name="Last", email=f"{role}@example.test")
    response = api_client_for(user).get(ME)
    assert response.status_code == 200
    assert response.json() == {
        "id": user.pk,
        "username": f"me_{role}",
        "role": str(role),
        "first_name": "First",
        "last_name": "Last",
        "email": f"{role}@example.test",
    }


def test_me_needs_authentication(db):
    assert_error(APIClient().get(ME), 401, "not_authenticated")


def test_a_bad_bearer_token_is_401(db):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer not.a.jwt")
    error = assert_error(client.get(ME), 401, "not_authenticated")
    # A plain sentence, not simplejwt's nested {"detail", "code", "messages"} flattened.
    assert "token_not_valid" not in error["message"] and "AccessToken" not in error["message"]


# --- Deactivated users and throttling --------------------------------------------------------


def test_a_deactivated_user_can_neither_refresh_nor_use_an_access_token(alice):
    tokens = obtain_tokens(alice)
    User.objects.filter(pk=alice.pk).update(is_active=False)
    assert_error(post(APIClient(), REFRESH, {"refresh": tokens["refresh"]}), 401, "not_authenticated")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    assert_error(client.get(ME), 401, "not_authenticated")


def test_sign_in_is_throttled_with_the_documented_shape(alice, monkeypatch):
    from django.core.cache import cache
    from rest_framework.throttling import SimpleRateThrottle

    cache.clear()
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", {"auth": "2/min", "user": "1000/min",
                                                                "anon": "1000/min"})
    try:
        for _ in range(2):
            assert post(APIClient(), TOKEN, {"username": "alice", "password": TEST_PASSWORD}).status_code == 200
        response = post(APIClient(), TOKEN, {"username": "alice", "password": TEST_PASSWORD})
        assert_error(response, 429, "throttled")
        assert int(response["Retry-After"]) > 0
    finally:
        cache.clear()
