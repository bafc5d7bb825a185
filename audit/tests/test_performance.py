"""The performance page's figures (audit/performance.py, core/metrics.py) and who may see them."""

from __future__ import annotations

import time

import pytest

from audit import performance
from core import metrics


@pytest.fixture(autouse=True)
def fresh_figures():
    """Each test starts with no requests, totals or snapshots remembered in this process."""
    saved = (list(metrics._recent), metrics.totals.copy(), dict(metrics.figures), dict(performance._latest))
    metrics._recent.clear()
    metrics.totals.clear()
    metrics.figures.clear()
    performance._latest.clear()
    yield
    metrics._recent.clear()
    metrics._recent.extend(saved[0])
    metrics.totals.clear()
    metrics.totals.update(saved[1])
    metrics.figures.clear()
    metrics.figures.update(saved[2])
    performance._latest.clear()
    performance._latest.update(saved[3])


def test_request_figures_are_over_the_last_ten_seconds():
    now = time.monotonic()
    metrics._recent.append((now - 30, 5.0, True))  # too old: not counted
    for i in range(1, 101):  # 1 ms .. 100 ms, the last one a 500
        metrics._recent.append((now - 5, i / 1000, i == 100))
    figures = metrics.recent_requests(now=now)
    assert figures == {"requests_per_second": 10.0, "p50_ms": 50.0, "p95_ms": 95.0, "p99_ms": 99.0,
                       "error_rate": 0.01}
    assert metrics.recent_requests(now=now + 60) == {
        "requests_per_second": 0.0, "p50_ms": None, "p95_ms": None, "p99_ms": None, "error_rate": 0.0}


def test_rates_are_per_second_since_the_previous_snapshot(monkeypatch):
    maker = performance.SnapshotMaker("relay")
    clock = iter([100.0, 102.0])
    monkeypatch.setattr(performance.time, "monotonic", lambda: next(clock))
    monkeypatch.setattr(performance, "_outbox", lambda: {"outbox_backlog": 7, "outbox_oldest_age_seconds": 1.5})
    metrics.totals["audit_events_published"] = 10
    first = maker.make()
    metrics.totals["audit_events_published"] = 50
    second = maker.make()
    assert first["rates"] == {}
    assert second["rates"] == {"audit_events_published": 20.0}
    assert second["figures"] == {"outbox_backlog": 7, "outbox_oldest_age_seconds": 1.5}
    assert second["service"] == "relay" and "." not in second["instance"]


def snapshot(service, instance, *, rps=None, p99=None, errors=0.0, rates=None, figures=None, age=0.0):
    data = {"service": service, "instance": instance, "pid": 1, "at": time.time() - age, "rates": rates or {},
            "figures": figures or {}, "pool": {"pool_max": 4, "pool_size": 3, "pool_available": 1,
                                               "requests_waiting": 0}}
    if rps is not None:
        data["requests"] = {"requests_per_second": rps, "p50_ms": 2.0, "p95_ms": 5.0, "p99_ms": p99,
                            "error_rate": errors}
    return data


def test_the_page_adds_up_every_process():
    performance.remember(snapshot("web", "a-1", rps=30.0, p99=40.0, errors=0.1,
                                  rates={"transactions.transfer": 12.0}))
    performance.remember(snapshot("web", "a-2", rps=10.0, p99=90.0, rates={"transactions.transfer": 3.0}))
    performance.remember(snapshot("relay", "a-3", rates={"audit_events_published": 15.0},
                                  figures={"outbox_backlog": 4}))
    performance.remember(snapshot("consumer", "a-4", rates={"audit_events_stored": 14.0},
                                  figures={"consumer_lag": 2, "chain_length": 99}))
    status = performance.performance_status()
    assert status["summary"] == {"requests_per_second": 40.0, "p99_ms": 90.0, "error_rate": 0.075,
                                 "transfers_per_second": 15.0, "outbox_backlog": 4, "consumer_lag": 2,
                                 "processes": 4}
    rows = {row["instance"]: row for row in status["processes"]}
    assert [row["service"] for row in status["processes"]] == ["consumer", "relay", "web", "web"]
    assert rows["a-3"]["events_published_per_second"] == 15.0 and rows["a-4"]["events_stored_per_second"] == 14.0
    assert rows["a-1"]["pool_in_use"] == 2 and rows["a-1"]["pool_max"] == 4


def test_a_process_that_stops_reporting_drops_off():
    performance.remember(snapshot("web", "gone-1", rps=1.0, p99=1.0))
    performance._latest["web.gone-1"]["received"] -= performance.STALE_SECONDS + 1
    performance.remember(snapshot("web", "here-1", rps=1.0, p99=1.0))
    assert [row["instance"] for row in performance.performance_status()["processes"]] == ["here-1"]


def test_only_supervisors_see_the_page_and_its_figures(client, alice, agnes, sam):
    page, data = "/staff/performance/", "/staff/performance/status.json"
    assert client.get(page).status_code == 302
    assert client.get(data).status_code == 401
    for user in (alice, agnes):
        client.force_login(user)
        assert client.get(page).status_code == 403
        assert client.get(data).json()["error"]["code"] == "permission_denied"
    client.force_login(sam)
    performance.remember(snapshot("web", "w-1", rps=3.0, p99=4.0))
    response = client.get(page)
    assert response.status_code == 200
    assert b'id="performance-status"' in response.content and b"w-1" in response.content
    body = client.get(data).json()
    assert body["summary"]["requests_per_second"] == 3.0 and body["processes"][0]["instance"] == "w-1"


def test_the_page_speaks_french(client, sam):
    client.force_login(sam)
    response = client.get("/staff/performance/", HTTP_ACCEPT_LANGUAGE="fr")
    html = response.content.decode()
    assert "<title>Performances" in html or "Performances</h1>" in html
    assert "Requêtes / s" in html and "Aucun processus ne s’est encore signalé" in html.replace("'", "’")
