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
def staff(agnes, sam):
    return {"agent": agnes, "supervisor": sam}


def usernames(response) -> set[str]:
    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == {"results", "next", "previous"}
    return {customer["username"] for customer in body["results"]}


@pytest.mark.parametrize("role", ["agent", "supervisor"])
def test_staff_list_customers_only(api_client_for, staff, alice, bob, role):
    response = api_client_for(staff[role]).get(CUSTOMERS)
    assert usernames(response) == {"alice", "bob"}
    customer = next(c for c in response.json()["results"] if c["username"] == "alice")
    assert set(customer) == {"id", "username", "first_name", "last_name", "email", "phone", "address",
                             "is_active", "date_joined", "password_set"}
    assert "password" not in customer


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("alice", {"alice"}),
        ("Liddell", {"alice"}),
        ("bob@example", {"bob"}),
        ("BOB@EXAMPLE.TEST", {"bob"}),
        ("nobody", set()),
        ("", {"alice", "bob"}),
    ],
)
def test_staff_search_customers_by_name_and_email(api_client_for, agnes, alice, bob, query, expected):
    assert usernames(api_client_for(agnes).get(CUSTOMERS, {"q": query})) == expected


def test_staff_search_customers_by_part_of_an_iban(api_client_for, agnes, alice_account, bob):
    iban = alice_account.iban
    client = api_client_for(agnes)
    assert usernames(client.get(CUSTOMERS, {"q": iban})) == {"alice"}
    assert usernames(client.get(CUSTOMERS, {"q": iban[-6:]})) == {"alice"}
    spaced = " ".join(iban[i:i + 4] for i in range(0, len(iban), 4)).lower()
    assert usernames(client.get(CUSTOMERS, {"q": spaced})) == {"alice"}


def test_customers_list_is_staff_only(api_client_for, alice):
    assert_error(api_client_for(alice).get(CUSTOMERS), 403, "permission_denied")
    assert_error(APIClient().get(CUSTOMERS), 401, "not_authenticated")


def test_customers_list_is_cursor_paginated(api_client_for, agnes, db):
    for n in range(5):
        make_user(f"pager{n}")
    client = api_client_for(agnes)
    seen: list[str] = []
    response = client.get(CUSTOMERS, {"page_size": 2})
    while True:
        seen += [c["username"] for c in response.json()["results"]]
        if not response.json()["next"]:
            break
        response = client.get(response.json()["next"])
    assert sorted(seen) == [f"pager{n}" for n in range(5)]


# --- Customers: detail -----------------------------------------------------------------------


def test_staff_see_one_customer(api_client_for, sam, alice):
    response = api_client_for(sam).get(f"{CUSTOMERS}{alice.pk}/")
    assert response.status_code == 200
    assert response.json()["username"] == "alice"
    assert response.json()["id"] == alice.pk


@pytest.mark.parametrize("which", ["unknown", "agent", "supervisor", "garbage", "huge", "zero"])
def test_customer_detail_is_404_for_unknown_and_non_customer_ids(api_client_for, agnes, sam, which):
    pk = {
        "unknown": 10**9,
        "agent": agnes.pk,
        "supervisor": sam.pk,
        "garbage": "abc",
        "huge": 10**30,
        "zero": 0,
    }[which]
    assert_error(api_client_for(agnes).get(f"{CUSTOMERS}{pk}/"), 404, "not_found")


def test_customer_detail_is_staff_only(api_client_for, alice, bob):
    assert_error(api_client_for(alice).get(f"{CUSTOMERS}{alice.pk}/"), 403, "permission_denied")
    assert_error(api_client_for(alice).get(f"{CUSTOMERS}{bob.pk}/"), 403, "permission_denied")
    assert_error(APIClient().get(f"{CUSTOMERS}{alice.pk}/"), 401, "not_authenticated")


# --- Customers: onboarding -------------------------------------------------------------------

NEW_CUSTOMER = {"username": "dora", "first_name": "Dora", "last_name": "Explorer", "email": "dora@example.test",
                "phone": "+33 6 12 34 56 78"}


def test_staff_onboard_a_customer_without_a_password_who_gets_a_link_and_no_password_is_returned(
    api_client_for, agnes, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = post(api_client_for(agnes), CUSTOMERS, NEW_CUSTOMER)
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
    detail = api_client_for(agnes).get(f"{CUSTOMERS}{dora.pk}/").json()
    assert "password" not in detail and detail["password_set"] is True
    event = AuditEvent.objects.get(action=actions.CUSTOMER_CREATED)
    assert event.actor_id == agnes.pk and event.target_id == str(dora.pk)
    assert event.data["password_link"] is True and link not in str(event.data)


def test_onboarding_with_a_chosen_password_returns_no_password(api_client_for, sam):
    chosen = "a-Long-and-unusual-passphrase-42"
    response = post(api_client_for(sam), CUSTOMERS, NEW_CUSTOMER | {"password": chosen})
    assert response.status_code == 201, response.content
    assert "password" not in response.json() and response.json()["password_set"] is True
    assert post(APIClient(), TOKEN, {"username": "dora", "password": chosen}).status_code == 200


@pytest.mark.parametrize(
    ("changes", "fields"),
    [
        ({"username": "alice"}, {"username"}),
        ({"username": "ALICE"}, {"username"}),
        ({"email": "alice@example.test"}, {"email"}),
        ({"email": "Alice@Example.Test"}, {"email"}),
        ({"username": "alice", "email": "alice@example.test"}, {"username", "email"}),
        ({"email": "not-an-email"}, {"email"}),
        ({"password": "short"}, {"password"}),
        ({"password": "1234567890123"}, {"password"}),
        ({"first_name": ""}, {"first_name"}),
        ({"username": "has space"}, {"username"}),
    ],
)
def test_onboarding_refuses_duplicates_and_bad_values(api_client_for, agnes, alice, changes, fields):
    client = api_client_for(agnes)
    users_before = User.objects.count()
    events_before = AuditEvent.objects.count()
    response = post(client, CUSTOMERS, NEW_CUSTOMER | changes)
    assert_error(response, 400, "validation_error", fields=fields)
    assert User.objects.count() == users_before
    assert AuditEvent.objects.count() == events_before


def test_onboarding_requires_the_names_and_email(api_client_for, agnes):
    response = post(api_client_for(agnes), CUSTOMERS, {"username": "x"})
    assert_error(response, 400, "validation_error", fields={"first_name", "last_name", "email"})


def test_onboarding_is_staff_only(api_client_for, alice):
    assert_error(post(api_client_for(alice), CUSTOMERS, NEW_CUSTOMER), 403, "permission_denied")
    assert_error(post(APIClient(), CUSTOMERS, NEW_CUSTOMER), 401, "not_authenticated")
    assert not User.objects.filter(username="dora").exists()
