"""Customers over the REST API (staff): the directory (GET customers/, searched by name, contact or
part of an IBAN: banking/api/customers.py), onboarding (POST customers/) and one customer's record
(customers/{id}/, identity/api/views.py). Moved from identity/tests/test_api.py (issue 12)."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from rest_framework.test import APIClient

from audit import actions
from audit.models import AuditEvent
from core.testing.api import API, assert_error
from identity.models import Role, User
from identity.tests.factories import make_user

pytestmark = pytest.mark.django_db

CUSTOMERS = f"{API}customers/"
TOKEN = f"{API}auth/token/"


def post(client: APIClient, url: str, data: dict):
    return client.post(url, data, format="json")


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
