"""One refresh token sent by several clients at once, on real PostgreSQL: one pair comes out,
whatever the race (identity/tokens.py locks the family, then the token, and reads the blacklist
under the lock). Each thread has its own database connection, closed at the end."""

from __future__ import annotations

from collections import Counter

import pytest
from django.db import connection
from rest_framework.test import APIClient
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from audit import actions
from audit.models import AuditEvent
from core.testing.api import API
from core.testing.threads import run_threads
from core.testing.users import TEST_PASSWORD
from identity.models import TokenFamily
from identity.tests.factories import CustomerFactory

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL (row locks, real concurrency)"),
]

REFRESH = f"{API}auth/token/refresh/"
CLIENTS = 6


def refresh_at_once(token: str, count: int) -> list:
    """POST `token` to auth/token/refresh/ from `count` threads released together; the responses."""

    def send(i: int, barrier) -> object:
        client = APIClient()
        barrier.wait(timeout=30)
        return client.post(REFRESH, {"refresh": token}, format="json")

    return run_threads(count, send)


def test_six_refreshes_of_one_token_at_once_give_one_pair():
    alice = CustomerFactory(username="alice")
    signed_in = APIClient().post(f"{API}auth/token/", {"username": "alice", "password": TEST_PASSWORD},
                                 format="json").json()
    outstanding_before = OutstandingToken.objects.count()

    responses = refresh_at_once(signed_in["refresh"], CLIENTS)

    statuses = Counter(response.status_code for response in responses)
    assert statuses == {200: 1, 401: CLIENTS - 1}, statuses
    for response in responses:
        if response.status_code == 401:
            assert response.json()["error"]["code"] == "not_authenticated"
    assert OutstandingToken.objects.count() == outstanding_before + 1
    [winner] = [response.json() for response in responses if response.status_code == 200]
    # The losers sent a token that was, by then, rotated: that is a reuse, so the family (the
    # winner's new pair included) is revoked, once, and audited once.
    family = TokenFamily.objects.get(user=alice)
    assert family.revoked_reason == "reuse"
    assert AuditEvent.objects.filter(action=actions.AUTH_TOKEN_REUSED).count() == 1
    assert not OutstandingToken.objects.filter(user=alice, blacklistedtoken__isnull=True).exists()
    assert BlacklistedToken.objects.filter(token__user=alice).count() == outstanding_before + 1
    again = APIClient().post(REFRESH, {"refresh": winner["refresh"]}, format="json")
    assert again.status_code == 401
