"""The performance page knows every process of the deployment: two web workers (bin/web), the
relay, the consumer and the scheduler, each a real process publishing its snapshot on a real
nats-server; whichever worker answers the supervisor shows them all, live."""

from __future__ import annotations

import json
import urllib.request

import pytest
from django.db import connection
from django.test import Client

from core.testing.nats import WebServer, wait_until

pytestmark = pytest.mark.django_db(transaction=True)

SNAPSHOTS = {"FLUX_PERFORMANCE_SNAPSHOTS": "1"}


def test_the_supervisor_sees_every_process_of_the_deployment(nats_server, pipeline, sam):
    web = WebServer(nats_server, env=SNAPSHOTS | {"FLUX_DB_POOL_MAX": "3"}).start()
    try:
        for command in ("audit_relay", "audit_consume", "run_scheduler"):
            pipeline(command, **SNAPSHOTS)
        session = Client()
        session.force_login(sam)
        cookie = f"sessionid={session.cookies['sessionid'].value}"

        def status() -> dict:
            request = urllib.request.Request(f"{web.url}/staff/performance/status.json", headers={"Cookie": cookie})
            with urllib.request.urlopen(request, timeout=10) as answer:
                return json.loads(answer.read())

        def services() -> list[str]:
            return sorted(row["service"] for row in status()["processes"])

        wait_until(lambda: services() == ["consumer", "relay", "scheduler", "web", "web"], timeout=30, interval=0.5,
                   message="not every process reported")
        # Load on the workers shows up in their figures within a snapshot or two. /readyz reads the
        # database, so each worker it reaches opens its pool (a worker that served only /healthz
        # had none to report: pool_max None, a flake in make test once SO_REUSEPORT spread them).
        for _ in range(60):
            urllib.request.urlopen(f"{web.url}/readyz", timeout=10).read()

        def busy() -> bool:
            current = status()
            return current["summary"]["requests_per_second"] >= 3.0 and current["summary"]["p99_ms"] is not None

        wait_until(busy, timeout=15, interval=0.5, message="the requests never showed")

        def pools_reported() -> bool:
            return all(row["pool_max"] is not None for row in status()["processes"] if row["service"] == "web")

        if connection.vendor == "postgresql":
            wait_until(pools_reported, timeout=15, interval=0.5, message="a worker never reported its pool")
        current = status()
        assert current["connected"] is True
        web_rows = [row for row in current["processes"] if row["service"] == "web"]
        assert len({row["instance"] for row in web_rows}) == 2
        if connection.vendor == "postgresql":  # each worker's pool (SQLite has none)
            assert [row["pool_max"] for row in web_rows] == [3, 3]
        [relay] = [row for row in current["processes"] if row["service"] == "relay"]
        assert relay["outbox_backlog"] is not None
    finally:
        print(web.stop()[-3000:])
