"""GET /api/v1/audit/events/ and /api/v1/audit/verify/: supervisors only, newest first, cursor
pages, filters, and the chain verdict."""

from __future__ import annotations

from datetime import timedelta

import pytest
from rest_framework.test import APIClient

from audit import actions
from audit.chain import append
from audit.tests.support import LOG, START, as_database_owner, event

pytestmark = pytest.mark.django_db

EVENTS = "/api/v1/audit/events/"
VERIFY = "/api/v1/audit/verify/"
FIELDS = {"id", "occurred_at", "actor", "action", "target_type", "target_id", "data", "hash"}


def client_for(user=None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def fetch_all(client: APIClient, url: str, **params) -> list[dict]:
    """Follow `next` to the last page; return every result in order."""
    results: list[dict] = []
    response = client.get(url, params)
    while True:
        assert response.status_code == 200, response.content
        body = response.json()
        results += body["results"]
        if not body["next"]:
            return results
        response = client.get(body["next"])


@pytest.fixture
def log(agnes, sam, alice):
    """A small log: logins, an account's life, money moving, and an expiry by the system."""
    shapes = [
        (alice, actions.AUTH_LOGIN, "user", alice.pk),
        (None, actions.AUTH_LOGIN_FAILED, "user", alice.pk),
        (agnes, actions.ACCOUNT_OPENED, "account", 10),
        (agnes, actions.TRANSACTION_POSTED, "transaction", 100),
        (agnes, actions.TRANSACTION_PENDING, "transaction", 101),
        (sam, actions.TRANSACTION_APPROVED, "transaction", 101),
        (agnes, actions.ACCOUNT_FROZEN, "account", 10),
        (None, actions.TRANSACTION_EXPIRED, "transaction", 102),
        (sam, actions.TRANSACTION_REVERSED, "transaction", 100),
        (alice, actions.AUTH_LOGOUT, "user", alice.pk),
    ]
    records = []
    for number, (actor, action, target_type, target_id) in enumerate(shapes, start=1):
        record, _ = append(event(
            5000 + number,
            occurred_at=(START + timedelta(hours=number)).isoformat(),
            actor_id=actor.pk if actor else None,
            actor_username=actor.username if actor else "",
            action=action,
            target_type=target_type,
            target_id=str(target_id),
            data={"n": number},
        ))
        records.append(record)
    return records


# --- Who may read it --------------------------------------------------------------------------


@pytest.mark.parametrize("url", [EVENTS, VERIFY])
def test_supervisors_only(url, log, sam, agnes, alice):
    assert client_for(sam).get(url).status_code == 200
    for user in (agnes, alice):
        response = client_for(user).get(url)
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "permission_denied"
    response = client_for().get(url)
    assert response.status_code == 401
    error = response.json()["error"]
    assert error["code"] == "not_authenticated" and error["message"]


# --- The list ---------------------------------------------------------------------------------


def test_records_show_their_fields_newest_first(log, sam, alice):
    results = client_for(sam).get(EVENTS).json()["results"]
    assert [row["id"] for row in results] == [record.event_id for record in reversed(log)]
    newest = results[0]
    assert FIELDS <= set(newest)
    assert newest == newest | {
        "id": log[-1].event_id, "actor": "alice", "action": actions.AUTH_LOGOUT, "target_type": "user",
        "target_id": str(alice.pk), "data": {"n": 10}, "hash": log[-1].hash,
    }
    system = next(row for row in results if row["action"] == actions.TRANSACTION_EXPIRED)
    assert system["actor"] is None


def test_cursor_pages_yield_every_record_once(sam, db):
    records = [append(event(number))[0] for number in range(1, 24)]
    pages = fetch_all(client_for(sam), EVENTS, page_size=5)
    assert [row["id"] for row in pages] == [record.event_id for record in reversed(records)]


def test_a_bad_cursor_is_a_validation_error(sam, log):
    response = client_for(sam).get(EVENTS, {"cursor": "garbage"})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"


def ids(sam, **params) -> list[int]:
    return [row["id"] for row in fetch_all(client_for(sam), EVENTS, **params)]


def expected(log, predicate) -> list[int]:
    return [record.event_id for record in reversed(log) if predicate(record)]


def test_filter_by_actor_username_or_id(log, sam, agnes):
    by_agnes = expected(log, lambda r: r.actor_username == "agnes")
    assert len(by_agnes) == 4
    assert ids(sam, actor="agnes") == by_agnes
    assert ids(sam, actor=str(agnes.pk)) == by_agnes
    assert ids(sam, actor="nobody") == []


def test_filter_by_action_or_area(log, sam):
    assert ids(sam, action=actions.TRANSACTION_POSTED) == expected(log, lambda r: r.action == "transaction.posted")
    area = expected(log, lambda r: r.action.startswith("transaction."))
    assert len(area) == 5
    assert ids(sam, action="transaction") == area
    assert ids(sam, action="trans") == []  # an area is a whole word, not a prefix of one


def test_filter_by_target(log, sam):
    assert ids(sam, target_type="account") == expected(log, lambda r: r.target_type == "account")
    assert ids(sam, target_type="transaction", target_id="101") == expected(log, lambda r: r.target_id == "101")


def test_filter_by_time(log, sam):
    start, end = log[2].occurred_at, log[5].occurred_at  # inclusive bounds
    assert ids(sam, **{"from": start.isoformat(), "to": end.isoformat()}) == expected(
        log, lambda r: start <= r.occurred_at <= end)
    assert ids(sam, **{"from": "2026-03-01"}) == expected(log, lambda r: True)
    assert ids(sam, to="2026-02-28") == []


@pytest.mark.parametrize("params", [{"from": "yesterday"}, {"to": "2026-13-45"}])
def test_a_bad_date_is_a_validation_error(params, log, sam):
    response = client_for(sam).get(EVENTS, params)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"


# --- Verification -----------------------------------------------------------------------------


def test_verify_reports_an_intact_chain(log, sam):
    assert client_for(sam).get(VERIFY).json() | {"reason": ""} == {
        "ok": True, "checked": len(log), "first_bad": None, "reason": ""}


def test_verify_reports_a_tampered_row(log, sam):
    with as_database_owner() as cursor:
        cursor.execute(f"UPDATE {LOG} SET actor_username = 'mallory' WHERE seq = %s", [log[3].seq])
    body = client_for(sam).get(VERIFY).json()
    assert {key: body[key] for key in ("ok", "checked", "first_bad")} == {
        "ok": False, "checked": 4, "first_bad": log[3].seq}
