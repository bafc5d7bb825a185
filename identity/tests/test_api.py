"""The identity part of the REST API v1: tokens, refresh rotation, logout, me/, customers."""

# The api_* fixtures are imported by name and then requested as test arguments (pytest's way):
# ruff: noqa: F401, F811

from __future__ import annotations

import re

import pytest
from django.test import Client
from rest_framework.test import APIClient

from audit import actions
from audit.models import AuditEvent
from banking.tests.api_support import (
    API,
    API_PASSWORD,
    api_agent,
    api_alice,
    api_alice_account,
    api_bob,
    api_client_for,
    api_open_account,
    api_supervisor,
    assert_error,
    make_user,
    obtain_tokens,
)
from identity.models import Role, User

pytestmark = pytest.mark.django_db

TOKEN = f"{API}auth/token/"
REFRESH = f"{API}auth/token/refresh/"
LOGOUT = f"{API}auth/logout/"
ME = f"{API}me/"
CUSTOMERS = f"{API}customers/"


def post(client: APIClient, url: str, data: dict):
    return client.post(url, data, format="json")


# --- Token obtain ----------------------------------------------------------------------------


def test_token_obtain_returns_an_access_and_a_refresh_token(api_alice):
    response = post(APIClient(), TOKEN, {"username": "api_alice", "password": API_PASSWORD})
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"access", "refresh"}
    assert body["access"] and body["refresh"] and body["access"] != body["refresh"]
    me = APIClient()
    me.credentials(HTTP_AUTHORIZATION=f"Bearer {body['access']}")
    assert me.get(ME).json()["username"] == "api_alice"


def test_token_obtain_success_is_audited(api_alice):
    post(APIClient(), TOKEN, {"username": "api_alice", "password": API_PASSWORD})
    event = AuditEvent.objects.get(action=actions.AUTH_LOGIN)
    assert event.actor_id == api_alice.pk
    assert event.target_type == "user" and event.target_id == str(api_alice.pk)
    assert not AuditEvent.objects.filter(action=actions.AUTH_LOGIN_FAILED).exists()


@pytest.mark.parametrize("username", ["api_alice", "nobody-by-this-name"])
def test_token_obtain_with_a_bad_password_is_401_and_audited(api_alice, username):
    response = post(APIClient(), TOKEN, {"username": username, "password": "wrong-password-123"})
    assert_error(response, 401, "not_authenticated")
    event = AuditEvent.objects.get(action=actions.AUTH_LOGIN_FAILED)
    assert event.actor_id is None
    assert event.data["username"] == username
    assert event.target_id == (str(api_alice.pk) if username == "api_alice" else "")
    assert not AuditEvent.objects.filter(action=actions.AUTH_LOGIN).exists()


def test_token_obtain_for_an_inactive_user_is_401(api_alice):
    User.objects.filter(pk=api_alice.pk).update(is_active=False)
    response = post(APIClient(), TOKEN, {"username": "api_alice", "password": API_PASSWORD})
    assert_error(response, 401, "not_authenticated")


@pytest.mark.parametrize(
    ("data", "fields"),
    [
        ({"password": API_PASSWORD}, {"username"}),
        ({"username": "api_alice"}, {"password"}),
        ({}, {"username", "password"}),
        ({"username": "", "password": ""}, {"username", "password"}),
    ],
)
def test_token_obtain_with_missing_fields_is_a_validation_error(api_alice, data, fields):
    response = post(APIClient(), TOKEN, data)
    assert_error(response, 400, "validation_error", fields=fields)
    assert not AuditEvent.objects.exists()


def test_token_obtain_refuses_malformed_json(api_alice):
    response = APIClient().post(TOKEN, data="{not json", content_type="application/json")
    assert_error(response, 400, "validation_error")


def test_token_obtain_refuses_a_form_body(api_alice):
    response = APIClient().post(TOKEN, {"username": "api_alice", "password": API_PASSWORD})  # multipart
    assert_error(response, 415, "unsupported_media_type")


def test_token_obtain_does_not_accept_get(api_alice):
    assert_error(APIClient().get(TOKEN), 405, "method_not_allowed")


# --- Refresh rotation ------------------------------------------------------------------------


def test_refresh_rotates_the_pair_and_the_old_refresh_stops_working(api_alice):
    first = obtain_tokens(api_alice)
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


def test_an_access_token_is_not_a_refresh_token(api_alice):
    tokens = obtain_tokens(api_alice)
    assert_error(post(APIClient(), REFRESH, {"refresh": tokens["access"]}), 401, "not_authenticated")


# --- Logout ----------------------------------------------------------------------------------


def test_logout_revokes_the_refresh_token_and_is_audited(api_alice):
    tokens = obtain_tokens(api_alice)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    response = post(client, LOGOUT, {"refresh": tokens["refresh"]})
    assert response.status_code == 204
    assert response.content == b""
    event = AuditEvent.objects.get(action=actions.AUTH_LOGOUT)
    assert event.actor_id == api_alice.pk and event.target_id == str(api_alice.pk)

    assert_error(post(APIClient(), REFRESH, {"refresh": tokens["refresh"]}), 401, "not_authenticated")
    # Logging out twice with the same token is refused.
    assert_error(post(client, LOGOUT, {"refresh": tokens["refresh"]}), 400, "validation_error", fields={"refresh"})


def test_logout_needs_a_signed_in_user(api_alice):
    tokens = obtain_tokens(api_alice)
    assert_error(post(APIClient(), LOGOUT, {"refresh": tokens["refresh"]}), 401, "not_authenticated")
    # ...and the token was not revoked.
    assert post(APIClient(), REFRESH, {"refresh": tokens["refresh"]}).status_code == 200


def test_logout_cannot_revoke_another_users_token(api_alice, api_bob, api_client_for):
    alice_tokens = obtain_tokens(api_alice)
    response = post(api_client_for(api_bob), LOGOUT, {"refresh": alice_tokens["refresh"]})
    assert_error(response, 400, "validation_error", fields={"refresh"})
    assert post(APIClient(), REFRESH, {"refresh": alice_tokens["refresh"]}).status_code == 200
    assert not AuditEvent.objects.filter(action=actions.AUTH_LOGOUT).exists()


@pytest.mark.parametrize(("data", "fields"), [({}, {"refresh"}), ({"refresh": "garbage"}, {"refresh"})])
def test_logout_validates_the_body(api_alice, api_client_for, data, fields):
    assert_error(post(api_client_for(api_alice), LOGOUT, data), 400, "validation_error", fields=fields)


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


# --- Customers: list and search --------------------------------------------------------------


@pytest.fixture
def staff(api_agent, api_supervisor):
    return {"agent": api_agent, "supervisor": api_supervisor}


def usernames(response) -> set[str]:
    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == {"results", "next", "previous"}
    return {customer["username"] for customer in body["results"]}


@pytest.mark.parametrize("role", ["agent", "supervisor"])
def test_staff_list_customers_only(api_client_for, staff, api_alice, api_bob, role):
    response = api_client_for(staff[role]).get(CUSTOMERS)
    assert usernames(response) == {"api_alice", "api_bob"}
    customer = next(c for c in response.json()["results"] if c["username"] == "api_alice")
    assert set(customer) == {"id", "username", "first_name", "last_name", "email", "phone", "address",
                             "is_active", "date_joined", "password_set"}
    assert "password" not in customer


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("alice", {"api_alice"}),
        ("Liddell", {"api_alice"}),
        ("builder@example", {"api_bob"}),
        ("BOB.BUILDER@EXAMPLE.TEST", {"api_bob"}),
        ("nobody", set()),
        ("", {"api_alice", "api_bob"}),
    ],
)
def test_staff_search_customers_by_name_and_email(api_client_for, api_agent, api_alice, api_bob, query, expected):
    assert usernames(api_client_for(api_agent).get(CUSTOMERS, {"q": query})) == expected


def test_staff_search_customers_by_part_of_an_iban(api_client_for, api_agent, api_alice_account, api_bob):
    iban = api_alice_account.iban
    client = api_client_for(api_agent)
    assert usernames(client.get(CUSTOMERS, {"q": iban})) == {"api_alice"}
    assert usernames(client.get(CUSTOMERS, {"q": iban[-6:]})) == {"api_alice"}
    spaced = " ".join(iban[i:i + 4] for i in range(0, len(iban), 4)).lower()
    assert usernames(client.get(CUSTOMERS, {"q": spaced})) == {"api_alice"}


def test_customers_list_is_staff_only(api_client_for, api_alice):
    assert_error(api_client_for(api_alice).get(CUSTOMERS), 403, "permission_denied")
    assert_error(APIClient().get(CUSTOMERS), 401, "not_authenticated")


def test_customers_list_is_cursor_paginated(api_client_for, api_agent, db):
    for n in range(5):
        make_user(f"pager{n}")
    client = api_client_for(api_agent)
    seen: list[str] = []
    response = client.get(CUSTOMERS, {"page_size": 2})
    while True:
        seen += [c["username"] for c in response.json()["results"]]
        if not response.json()["next"]:
            break
        response = client.get(response.json()["next"])
    assert sorted(seen) == [f"pager{n}" for n in range(5)]


# --- Customers: detail -----------------------------------------------------------------------


def test_staff_see_one_customer(api_client_for, api_supervisor, api_alice):
    response = api_client_for(api_supervisor).get(f"{CUSTOMERS}{api_alice.pk}/")
    assert response.status_code == 200
    assert response.json()["username"] == "api_alice"
    assert response.json()["id"] == api_alice.pk


@pytest.mark.parametrize("which", ["unknown", "agent", "supervisor", "garbage", "huge", "zero"])
def test_customer_detail_is_404_for_unknown_and_non_customer_ids(api_client_for, api_agent, api_supervisor, which):
    pk = {
        "unknown": 10**9,
        "agent": api_agent.pk,
        "supervisor": api_supervisor.pk,
        "garbage": "abc",
        "huge": 10**30,
        "zero": 0,
    }[which]
    assert_error(api_client_for(api_agent).get(f"{CUSTOMERS}{pk}/"), 404, "not_found")


def test_customer_detail_is_staff_only(api_client_for, api_alice, api_bob):
    assert_error(api_client_for(api_alice).get(f"{CUSTOMERS}{api_alice.pk}/"), 403, "permission_denied")
    assert_error(api_client_for(api_alice).get(f"{CUSTOMERS}{api_bob.pk}/"), 403, "permission_denied")
    assert_error(APIClient().get(f"{CUSTOMERS}{api_alice.pk}/"), 401, "not_authenticated")


# --- Customers: onboarding -------------------------------------------------------------------

NEW_CUSTOMER = {"username": "dora", "first_name": "Dora", "last_name": "Explorer", "email": "dora@example.test",
                "phone": "+33 6 12 34 56 78"}


def test_staff_onboard_a_customer_without_a_password_who_gets_a_link_and_no_password_is_returned(
    api_client_for, api_agent, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = post(api_client_for(api_agent), CUSTOMERS, NEW_CUSTOMER)
    assert response.status_code == 201, response.content
    body = response.json()
    assert "password" not in body and body["password_set"] is False
    assert body["username"] == "dora" and body["email"] == "dora@example.test"
    dora = User.objects.get(username="dora")
    assert dora.role == Role.CUSTOMER and dora.phone == "+33 6 12 34 56 78"
    assert not dora.has_usable_password()
    # The link went to dora, built on the address the request came to.
    [mail] = mailoutbox
    assert mail.to == ["dora@example.test"]
    link = re.search(r"http://testserver/account/password/\S+/", mail.body).group(0)
    # Dora chooses her password through it, then signs in.
    page = Client()
    form = page.get(link, follow=True)
    assert form.status_code == 200 and b'data-testid="password-set-form"' in form.content
    chosen = "dora-chose-this-one-2026"
    saved = page.post(form.redirect_chain[-1][0], {"new_password1": chosen, "new_password2": chosen})
    assert saved.status_code == 302
    assert post(APIClient(), TOKEN, {"username": "dora", "password": chosen}).status_code == 200
    detail = api_client_for(api_agent).get(f"{CUSTOMERS}{dora.pk}/").json()
    assert "password" not in detail and detail["password_set"] is True
    event = AuditEvent.objects.get(action=actions.CUSTOMER_CREATED)
    assert event.actor_id == api_agent.pk and event.target_id == str(dora.pk)
    assert event.data["password_link"] is True and link not in str(event.data)


def test_onboarding_with_a_chosen_password_returns_no_password(api_client_for, api_supervisor):
    chosen = "a-Long-and-unusual-passphrase-42"
    response = post(api_client_for(api_supervisor), CUSTOMERS, NEW_CUSTOMER | {"password": chosen})
    assert response.status_code == 201, response.content
    assert "password" not in response.json() and response.json()["password_set"] is True
    assert post(APIClient(), TOKEN, {"username": "dora", "password": chosen}).status_code == 200


@pytest.mark.parametrize(
    ("changes", "fields"),
    [
        ({"username": "api_alice"}, {"username"}),
        ({"username": "API_ALICE"}, {"username"}),
        ({"email": "alice.liddell@example.test"}, {"email"}),
        ({"email": "Alice.Liddell@Example.Test"}, {"email"}),
        ({"username": "api_alice", "email": "alice.liddell@example.test"}, {"username", "email"}),
        ({"email": "not-an-email"}, {"email"}),
        ({"password": "short"}, {"password"}),
        ({"password": "1234567890123"}, {"password"}),
        ({"first_name": ""}, {"first_name"}),
        ({"username": "has space"}, {"username"}),
    ],
)
def test_onboarding_refuses_duplicates_and_bad_values(api_client_for, api_agent, api_alice, changes, fields):
    client = api_client_for(api_agent)
    users_before = User.objects.count()
    events_before = AuditEvent.objects.count()
    response = post(client, CUSTOMERS, NEW_CUSTOMER | changes)
    assert_error(response, 400, "validation_error", fields=fields)
    assert User.objects.count() == users_before
    assert AuditEvent.objects.count() == events_before


def test_onboarding_requires_the_names_and_email(api_client_for, api_agent):
    response = post(api_client_for(api_agent), CUSTOMERS, {"username": "x"})
    assert_error(response, 400, "validation_error", fields={"first_name", "last_name", "email"})


def test_onboarding_is_staff_only(api_client_for, api_alice):
    assert_error(post(api_client_for(api_alice), CUSTOMERS, NEW_CUSTOMER), 403, "permission_denied")
    assert_error(post(APIClient(), CUSTOMERS, NEW_CUSTOMER), 401, "not_authenticated")
    assert not User.objects.filter(username="dora").exists()


# --- Deactivated users and throttling --------------------------------------------------------


def test_a_deactivated_user_can_neither_refresh_nor_use_an_access_token(api_alice):
    tokens = obtain_tokens(api_alice)
    User.objects.filter(pk=api_alice.pk).update(is_active=False)
    assert_error(post(APIClient(), REFRESH, {"refresh": tokens["refresh"]}), 401, "not_authenticated")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    assert_error(client.get(ME), 401, "not_authenticated")


def test_sign_in_is_throttled_with_the_documented_shape(api_alice, monkeypatch):
    from django.core.cache import cache
    from rest_framework.throttling import SimpleRateThrottle

    cache.clear()
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", {"auth": "2/min", "user": "1000/min",
                                                                "anon": "1000/min"})
    try:
        for _ in range(2):
            assert post(APIClient(), TOKEN, {"username": "api_alice", "password": API_PASSWORD}).status_code == 200
        response = post(APIClient(), TOKEN, {"username": "api_alice", "password": API_PASSWORD})
        assert_error(response, 429, "throttled")
        assert int(response["Retry-After"]) > 0
    finally:
        cache.clear()
