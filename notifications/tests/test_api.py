"""GET notifications/ and POST notifications/{id}/read/, read-all/: a customer's own only."""

from __future__ import annotations

import pytest
from django.utils import timezone

from core.testing.api import API, PAGE_FIELDS, bearer_client
from notifications.models import Notification
from notifications.tests.factories import money_in

pytestmark = pytest.mark.django_db

LIST = f"{API}notifications/"


def test_a_customer_lists_their_own_newest_first_in_pages(alice, bob):
    older, newer = money_in(bob, payer="Alice Liddell"), money_in(bob, payer="Carol Danvers", amount_minor=5_00)
    money_in(alice, payer="Bob Builder")

    response = bearer_client(bob).get(LIST)

    assert response.status_code == 200
    body = response.json()
    assert set(body) == PAGE_FIELDS
    assert [item["id"] for item in body["results"]] == [newer.pk, older.pk]
    assert body["results"][0] == {
        "id": newer.pk, "kind": "money_in", "title": "Money received", "body": "Carol Danvers sent you 5.00\u00a0EUR.",
        "transaction": None, "created_at": body["results"][0]["created_at"], "read_at": None,
    }
    assert response["Cache-Control"] == "no-store"


def test_the_list_is_paginated_by_cursor(bob):
    made = [money_in(bob) for _ in range(3)]
    first = bearer_client(bob).get(LIST, {"page_size": 2}).json()
    second = bearer_client(bob).get(first["next"]).json()
    assert [item["id"] for item in first["results"] + second["results"]] == [n.pk for n in reversed(made)]
    assert second["next"] is None


def test_titles_and_bodies_are_in_the_request_language(bob):
    money_in(bob)
    item = bearer_client(bob).get(LIST, HTTP_ACCEPT_LANGUAGE="fr").json()["results"][0]
    assert (item["title"], item["body"]) == ("Argent reçu", "Alice Liddell vous a envoyé 12,34\u00a0EUR.")


def test_staff_have_no_notifications_and_anonymous_callers_must_sign_in(agnes, bob):
    money_in(bob)
    assert bearer_client(agnes).get(LIST).json()["error"]["code"] == "permission_denied"
    assert bearer_client(None).get(LIST).status_code == 401


def test_a_customer_marks_their_own_read(bob):
    notification = money_in(bob)

    response = bearer_client(bob).post(f"{LIST}{notification.pk}/read/")

    assert response.status_code == 200
    notification.refresh_from_db()
    assert notification.read_at is not None
    assert response.json()["read_at"] is not None and response.json()["id"] == notification.pk


def test_another_customers_notification_is_not_found_and_stays_unread(alice, bob):
    notification = money_in(bob)
    for pk in (notification.pk, 999999, "abc"):
        response = bearer_client(alice).post(f"{LIST}{pk}/read/")
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"
    notification.refresh_from_db()
    assert notification.read_at is None


def test_read_all_marks_only_the_callers_unread_ones(alice, bob):
    read_before = money_in(bob, read_at=timezone.now() - timezone.timedelta(days=1))
    money_in(bob), money_in(bob)
    alices = money_in(alice)

    response = bearer_client(bob).post(f"{LIST}read-all/")

    assert response.status_code == 200 and response.json() == {"read": 2}
    assert not Notification.objects.filter(customer=bob, read_at__isnull=True).exists()
    assert Notification.objects.get(pk=read_before.pk).read_at == read_before.read_at
    assert Notification.objects.get(pk=alices.pk).read_at is None
