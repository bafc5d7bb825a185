"""The staff dashboards: who may see them, the audit log's filters and paging, and the NATS
dashboard with NATS up and down (the live tail's event stream: test_live_tail.py)."""

from __future__ import annotations

import json
from datetime import timedelta

import nats
import pytest
from asgiref.sync import async_to_sync
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent, AuditLogRecord
from audit.tests.support import log, log_event_ids
from core.testing.nats import wait_until
from core.testing.users import TEST_PASSWORD

PAGES = ["staff-audit", "staff-nats"]
ENDPOINTS = ["staff-audit-verify", "staff-nats-status", "staff-audit-stream"]

@pytest.fixture
def as_user(client):
    def sign_in(user):
        client.force_login(user)
        return client

    return sign_in


def rows(response) -> list[tuple[int, str, str]]:
    return [(row["seq"], row["actor"], row["action"]) for row in response.context["rows"]]


# --- Access -----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", PAGES)
def test_pages_send_anonymous_visitors_to_sign_in(client, db, name):
    response = client.get(reverse(name))

    assert response.status_code == 302
    assert response["Location"] == f"/login/?next={reverse(name)}"


@pytest.mark.parametrize("name", PAGES + ENDPOINTS)
@pytest.mark.parametrize("who", ["alice", "agnes"])
def test_customers_and_agents_are_refused(as_user, request, nats_down, name, who):
    response = as_user(request.getfixturevalue(who)).get(reverse(name))

    assert response.status_code == 403
    if name in PAGES:
        assert "No access" in response.content.decode()
    else:
        assert response.json()["error"]["code"] == "permission_denied"


@pytest.mark.parametrize("name", ENDPOINTS)
def test_endpoints_answer_401_to_anonymous_scripts(client, db, nats_down, name):
    response = client.get(reverse(name))

    assert response.status_code == 401


@pytest.mark.parametrize("name", PAGES + ENDPOINTS)
def test_supervisors_get_everything(as_user, sam, nats_down, name):
    response = as_user(sam).get(reverse(name))

    assert response.status_code == 200
    if name == "staff-audit-stream":
        assert response["Content-Type"] == "text/event-stream"
        response.close()


def test_signing_in_leads_back_to_the_dashboard(client, sam, nats_down):
    response = client.post("/login/?next=/staff/audit/",
                           {"username": "sam", "password": TEST_PASSWORD, "next": "/staff/audit/"})

    assert response.status_code == 302
    assert response["Location"] == "/staff/audit/"


# --- The audit log page -----------------------------------------------------------------------


def test_the_log_is_newest_first_with_links_to_targets(as_user, sam):
    first = log("account.opened", actor="agnes", target_type="account", target_id="12")
    second = log("transaction.posted", actor="alice", target_type="transaction", target_id="34")
    third = log("auth.login_failed", actor="", target_type="user", target_id="x")

    response = as_user(sam).get(reverse("staff-audit"))

    assert rows(response) == [(third.seq, "", "auth.login_failed"), (second.seq, "alice", "transaction.posted"),
                              (first.seq, "agnes", "account.opened")]
    html = response.content.decode()
    assert 'href="/admin/banking/account/12/change/"' in html
    assert 'href="/admin/banking/transaction/34/change/"' in html
    assert "system" in html  # no actor
    assert f"last_event_id={third.seq}" in html  # the live tail starts after the newest row
    assert 'data-testid="empty-state"' not in html


def test_an_empty_log_says_so(as_user, sam):
    response = as_user(sam).get(reverse("staff-audit"))

    assert "The audit log is empty." in response.content.decode()


@pytest.mark.parametrize(("query", "expected"), [
    ({"actor": "alice"}, ["transaction.posted", "transaction.pending"]),
    ({"action": "transaction"}, ["transaction.posted", "transaction.pending"]),
    ({"action": "account.opened"}, ["account.opened"]),
    ({"target_type": "account"}, ["account.opened"]),
    ({"target_type": "transaction", "target_id": "5"}, ["transaction.posted"]),
    ({"from": "2026-01-02"}, ["transaction.posted", "transaction.pending"]),
    ({"to": "2026-01-01"}, ["account.opened"]),
    ({"actor": "nobody"}, []),
])
def test_filters(as_user, sam, query, expected):
    day = timezone.make_aware(timezone.datetime(2026, 1, 1, 12))
    log("account.opened", actor="agnes", target_type="account", target_id="5", occurred_at=day)
    log("transaction.posted", actor="alice", target_type="transaction", target_id="5",
        occurred_at=day + timedelta(days=1))
    log("transaction.pending", actor="alice", target_type="transaction", target_id="6",
        occurred_at=day + timedelta(days=2))

    response = as_user(sam).get(reverse("staff-audit"), query)

    assert sorted(action for _, _, action in rows(response)) == sorted(expected)
    if not expected:
        assert "No audit events match these filters." in response.content.decode()
    for value in query.values():
        assert f'value="{value}"' in response.content.decode()


def test_a_bad_filter_is_shown_not_a_crash(as_user, sam):
    log()

    response = as_user(sam).get(reverse("staff-audit"), {"from": "yesterday"})

    assert response.status_code == 200
    assert rows(response) == []
    assert "These filters are not valid." in response.content.decode()
    assert "Use a date (2026-01-31)" in response.content.decode()


def test_older_pages_follow_the_cursor_and_keep_the_filters(as_user, sam, monkeypatch):
    monkeypatch.setattr("audit.selectors.PAGE_SIZE", 2)
    records = [log(actor="alice") for _ in range(5)]
    log(actor="bob")
    client = as_user(sam)

    first = client.get(reverse("staff-audit"), {"actor": "alice"})
    assert [seq for seq, _, _ in rows(first)] == [records[4].seq, records[3].seq]
    older = first.context["older_url"]
    assert older == f"?actor=alice&before={records[3].seq}"
    second = client.get(reverse("staff-audit") + older)
    assert [seq for seq, _, _ in rows(second)] == [records[2].seq, records[1].seq]
    third = client.get(reverse("staff-audit") + second.context["older_url"])
    assert [seq for seq, _, _ in rows(third)] == [records[0].seq]
    assert third.context["older_url"] == ""
    assert 'data-stream-url=""' in third.content.decode()  # history, not live


@pytest.mark.parametrize("length", [3, 120])
def test_the_page_costs_the_same_queries_whatever_the_log_length(as_user, sam, django_assert_max_num_queries,
                                                                 length):
    for _ in range(length):
        log()
    client = as_user(sam)

    with django_assert_max_num_queries(3):  # session, user, the page of records
        client.get(reverse("staff-audit"), {"action": "transaction", "before": "100000"})
    with django_assert_max_num_queries(3):
        client.get(reverse("staff-audit"))


def test_the_chain_badge_endpoint_verifies_the_chain(as_user, sam):
    for _ in range(3):
        log()

    assert as_user(sam).get(reverse("staff-audit-verify")).json() == {
        "ok": True, "checked": 3, "first_bad": None, "reason": ""}


def test_the_chain_badge_endpoint_names_the_first_bad_row(as_user, sam):
    last = [log() for _ in range(2)][-1]
    # A row slipped in behind the consumer's back: it links to the last row but its hash is forged.
    forged = AuditLogRecord.objects.create(
        event_id=next(log_event_ids), occurred_at=timezone.now(), actor_username="mallory", action="account.closed",
        recorded_at=timezone.now(), prev_hash=last.hash, hash="f" * 64,
    )

    verdict = as_user(sam).get(reverse("staff-audit-verify")).json()

    assert verdict == {"ok": False, "checked": 3, "first_bad": forged.seq, "reason": "content does not match its hash"}


# --- The NATS dashboard -----------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_nats_status_with_a_real_server(as_user, sam, alice_account, nats_server, pipeline):
    pipeline("audit_relay")
    pipeline("audit_consume")
    client = as_user(sam)

    def caught_up():
        status = client.get(reverse("staff-nats-status")).json()
        consumer = status["audit_consumer"]
        return status if consumer and status["audit_stream"]["messages"] >= AuditEvent.objects.count() \
            and consumer["num_pending"] == 0 and consumer["num_ack_pending"] == 0 \
            and status["outbox"]["backlog"] == 0 else None

    status = wait_until(caught_up, timeout=20, interval=0.2, message="the pipeline did not catch up")

    assert status["nats"] == {"url": nats_server.url, "reachable": True, "error": ""}
    assert status["server"]["version"]
    assert status["audit_stream"]["first_seq"] == 1
    assert status["audit_stream"]["last_seq"] == status["audit_stream"]["messages"]
    assert status["audit_stream"]["bytes"] > 0
    assert status["audit_consumer"]["num_ack_pending"] == 0
    assert {client["name"]: client["connected"] for client in status["clients"]} == {
        "flux-relay": True, "flux-audit-consumer": True}
    assert status["outbox"]["relay_lag_seconds"] == 0
    page = client.get(reverse("staff-nats")).content.decode()
    assert "NATS is unreachable" in page  # the (hidden) banner is there for when it goes down
    assert 'data-testid="nats-unreachable" x-cloak' in page  # hidden until Alpine's x-show decides


def test_nats_status_shows_recent_logs_and_drop_counters(as_user, sam, nats_server):
    async def ship():
        nc = await nats.connect(nats_server.url)
        js = nc.jetstream()
        from audit.nats import logs_stream_config

        await js.add_stream(logs_stream_config())
        for service, level, message, dropped in (("web", "warning", "slow", 0), ("relay", "error", "boom", 3),
                                                 ("web", "error", "bad", 2)):
            entry = {"time": timezone.now().isoformat(), "service": service, "level": level,
                     "logger": "flux.test", "message": message, "dropped_total": dropped}
            await js.publish(f"logs.{service}.{level}", json.dumps(entry).encode())
        await nc.close()

    async_to_sync(ship)()

    status = as_user(sam).get(reverse("staff-nats-status")).json()

    assert [entry["message"] for entry in status["recent_logs"]] == ["bad", "boom", "slow"]
    assert status["log_drops"] == [
        {"service": "relay", "dropped_total": 3, "time": status["recent_logs"][1]["time"]},
        {"service": "web", "dropped_total": 2, "time": status["recent_logs"][0]["time"]},
    ]


def test_nats_down_is_said_clearly_and_the_database_figures_remain(as_user, sam, alice_account, nats_down):
    client = as_user(sam)

    status = client.get(reverse("staff-nats-status")).json()
    page = client.get(reverse("staff-nats"))

    assert status["nats"]["reachable"] is False and status["nats"]["error"]
    assert status["monitor"]["reachable"] is False
    assert status["audit_stream"] is None and status["audit_consumer"] is None
    assert status["outbox"]["backlog"] == AuditEvent.objects.count() > 0
    assert status["outbox"]["relay_lag_seconds"] >= 0
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-testid="nats-unreachable" x-cloak' not in html
    assert "NATS is unreachable." in html
    assert f'x-text="status.outbox.backlog">{status["outbox"]["backlog"]}</span>' in html


def test_the_rows_say_what_happened_with_the_amount_reason_and_who(as_user, sam):
    from audit.chain import append
    append({"event_id": next(log_event_ids), "occurred_at": timezone.now().isoformat(), "actor_id": None,
            "actor_username": "sam", "action": "transaction.rejected", "target_type": "transaction",
            "target_id": "7", "data": {"amount": "12000.00", "currency": "EUR", "reason": "No proof of funds"}})
    append({"event_id": next(log_event_ids), "occurred_at": timezone.now().isoformat(), "actor_id": None,
            "actor_username": "sam", "action": "staff.created", "target_type": "user",
            "target_id": "9", "data": {"username": "arthur", "role": "agent"}})

    page = as_user(sam).get(reverse("staff-audit")).content.decode()

    assert "Rejected" in page and 'data-testid="detail-amount">12,000.00\xa0EUR<' in page
    assert 'data-testid="detail-reason">Reason: No proof of funds<' in page
    assert "Staff member created" in page and "· arthur" in page
