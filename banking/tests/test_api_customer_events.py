"""GET /api/v1/customers/{id}/events/: staff read what happened to one customer, nothing else."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from audit import actions
from banking import services
from core.testing.api import bearer_client as client_for
from identity.services import customer_update_contact

pytestmark = pytest.mark.django_db



def url(customer) -> str:
    return f"/api/v1/customers/{customer.pk if hasattr(customer, 'pk') else customer}/events/"


def test_staff_see_the_events_about_one_customer_newest_first(agnes, sam, alice, bob, alice_account, bob_account):
    customer_update_contact(customer=alice, email="alice@new.example", actor=agnes)
    deposit = services.deposit_create(initiator=agnes, account_id=alice_account.pk, amount=10_00, reference="")
    services.deposit_create(initiator=agnes, account_id=bob_account.pk, amount=10_00, reference="")
    for user in (agnes, sam):
        body = client_for(user).get(url(alice)).json()
        assert set(body) == {"results", "next", "previous"}
        events = body["results"]
        assert events[0]["target_type"] == "transaction" and events[0]["target_id"] == str(deposit.pk)
        assert events[0]["actor"] == "agnes"
        assert any(e["action"] == actions.CUSTOMER_UPDATED and e["target_id"] == str(alice.pk) for e in events)
        assert {e["target_id"] for e in events if e["target_type"] == "account"} <= {str(alice_account.pk)}
        assert [e["id"] for e in events] == sorted((e["id"] for e in events), reverse=True)


def test_customers_may_not_read_events(alice, bob):
    for user in (alice, bob):
        response = client_for(user).get(url(alice))
        assert response.status_code == 403 and response.json()["error"]["code"] == "permission_denied"
    assert APIClient().get(url(alice)).status_code == 401


@pytest.mark.parametrize("which", ["staff", "unknown", "text"])
def test_not_a_customer_is_404(agnes, sam, which):
    target = {"staff": sam.pk, "unknown": 999999, "text": "abc"}[which]
    response = client_for(agnes).get(url(target))
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"
