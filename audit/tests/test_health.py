"""GET /healthz and GET /readyz as DESIGN.md specifies them ("Operations")."""

from __future__ import annotations

import pytest
from django.db import OperationalError, connection, transaction

from audit.models import OutboxMessage
from audit.services import audit_record


def record_events(n: int) -> None:
    with transaction.atomic():
        for i in range(n):
            audit_record(actor=None, action="test.event", data={"n": i})


def test_healthz_answers_without_touching_anything(client, db, django_assert_num_queries, nats_down):
    with django_assert_num_queries(0):
        response = client.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}
    assert response["Cache-Control"] == "no-store"
    assert client.post("/healthz").status_code == 405


@pytest.mark.django_db
def test_ready_with_the_database_and_nats(client, nats_server):
    record_events(3)
    response = client.get("/readyz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"]["database"] == "ok" and body["checks"]["nats"] == "ok"
    assert body["checks"]["outbox_backlog"] == OutboxMessage.objects.count() == 3
    assert 0 <= body["checks"]["outbox_oldest_age_seconds"] < 60


@pytest.mark.django_db
def test_nats_away_is_degraded_not_failed(client, nats_down):
    record_events(2)
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["status"] == "degraded"
    assert response.json()["checks"]["nats"] == "unreachable"
    assert response.json()["checks"]["outbox_backlog"] == 2


@pytest.mark.django_db
def test_one_of_several_nats_servers_is_enough(client, nats_server, settings):
    down = settings.NATS_URL.rsplit(":", 1)[0] + ":1"
    settings.NATS_URL = f"{down},{nats_server.url}"
    assert client.get("/readyz").json()["checks"]["nats"] == "ok"


@pytest.mark.django_db
def test_no_database_is_503(client, nats_server, monkeypatch):
    def unavailable(*args, **kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(connection, "cursor", unavailable)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "checks": {
        "database": "unavailable", "nats": "ok", "outbox_backlog": None, "outbox_oldest_age_seconds": None}}
