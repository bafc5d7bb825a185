"""GET /healthz and GET /readyz (DESIGN.md, "Operations").

/healthz says the process answers, and nothing else: it touches neither the database nor NATS, so
a load balancer never takes every worker out because a dependency is slow.

/readyz says whether this process can do its work: the database must answer (503 otherwise:
send no traffic here); NATS may be away (200 "degraded": the outbox keeps every audit event and
the relay publishes them when it is back, so money still moves), and the outbox's backlog and the
age of its oldest event say how far behind the audit trail is."""

from __future__ import annotations

import logging
import socket
from urllib.parse import urlsplit

from django.conf import settings
from django.db import DatabaseError, connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_safe
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from audit.nats import server_urls
from audit.selectors import outbox_state

logger = logging.getLogger("flux.health")

NATS_TIMEOUT_SECONDS = 0.5
HEADERS = {"Cache-Control": "no-store"}


@require_safe
def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"}, headers=HEADERS)


@require_safe
def readyz(request: HttpRequest) -> JsonResponse:
    checks: dict[str, object] = {"database": "ok", "nats": nats_status()}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks.update(outbox_figures())
    except DatabaseError as error:  # unreachable, or no pooled connection in time
        logger.warning("readiness: the database does not answer: %s", error)
        checks.update(database="unavailable", outbox_backlog=None, outbox_oldest_age_seconds=None)
        return JsonResponse({"status": "unavailable", "checks": checks}, status=503, headers=HEADERS)
    status = "ok" if checks["nats"] == "ok" else "degraded"
    return JsonResponse({"status": status, "checks": checks}, headers=HEADERS)


def outbox_figures() -> dict[str, float | int]:
    """How many audit events wait in the outbox, and for how long the oldest has (seconds)."""
    state = outbox_state()
    return {"outbox_backlog": state.backlog, "outbox_oldest_age_seconds": round(state.relay_lag_seconds, 3)}


def nats_addresses() -> list[tuple[str, int]]:
    """(host, port) of every server NATS_URL lists (comma-separated)."""
    addresses = []
    for url in server_urls(settings.NATS_URL):
        parts = urlsplit(url)
        if parts.hostname:
            addresses.append((parts.hostname, parts.port or 4222))
    return addresses


def nats_status() -> str:
    """"ok" when one NATS server of NATS_URL greets us (its INFO line) within the timeout, else
    "unreachable". A greeting, not a session: cheap enough for every probe."""
    for host, port in nats_addresses():
        try:
            with socket.create_connection((host, port), timeout=NATS_TIMEOUT_SECONDS) as sock:
                sock.settimeout(NATS_TIMEOUT_SECONDS)
                if sock.recv(5) == b"INFO ":
                    return "ok"
        except OSError:
            continue
    return "unreachable"


class OutboxCollector(Collector):
    """flux_outbox_backlog and flux_outbox_oldest_age_seconds, at scrape time."""

    def collect(self):
        try:
            figures = outbox_figures()
        except DatabaseError:
            return
        yield GaugeMetricFamily("flux_outbox_backlog", "Audit events waiting in the outbox for the relay.",
                                value=figures["outbox_backlog"])
        yield GaugeMetricFamily("flux_outbox_oldest_age_seconds", "Age of the oldest event in the outbox.",
                                value=figures["outbox_oldest_age_seconds"])

    def describe(self):
        return []
