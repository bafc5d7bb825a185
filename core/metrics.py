"""Prometheus metrics: the series every process shares, and their exposition.

Web workers are several processes (bin/web): each writes its samples to files in
PROMETHEUS_MULTIPROC_DIR (prometheus-client's multiprocess mode, set by bin/web before Python
starts), and GET /metrics, answered by any one worker, adds them all up. The other processes
(relay, consumer, scheduler) are one process each: they serve their own registry on
FLUX_METRICS_PORT (serve_process_metrics).

The series DESIGN.md names: flux_http_requests_total{method,route,status},
flux_http_request_duration_seconds (a histogram), flux_transactions_total{kind,status},
flux_outbox_backlog, flux_outbox_oldest_age_seconds (read from the database at scrape time:
audit/metrics.py) and the database pool gauges."""

from __future__ import annotations

import collections
import hmac
import logging
import math
import os
import threading
import time
from collections.abc import Iterable

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
    start_http_server,
)
from prometheus_client.registry import Collector

from core.errors import error_response

logger = logging.getLogger("flux.metrics")

MULTIPROCESS = bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))

# Latency buckets in seconds: fine below 100 ms, where a healthy request is.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

HTTP_REQUESTS = Counter(
    "flux_http_requests", "HTTP requests answered, by method, route (the URL pattern) and status.",
    ["method", "route", "status"],
)
HTTP_DURATION = Histogram(
    "flux_http_request_duration_seconds", "Time from the request reaching Django to its answer, by route.",
    ["method", "route"], buckets=LATENCY_BUCKETS,
)
TRANSACTIONS = Counter(
    "flux_transactions", "Transactions that reached a status (committed), by kind and status.", ["kind", "status"],
)
# The pool of each web worker (psycopg_pool's own figures), added up over the live workers.
POOL_SIZE = Gauge("flux_db_pool_connections", "PostgreSQL connections the pools hold.", multiprocess_mode="livesum")
POOL_AVAILABLE = Gauge("flux_db_pool_available", "Idle connections in the pools.", multiprocess_mode="livesum")
POOL_WAITING = Gauge("flux_db_pool_waiting", "Requests waiting for a connection.", multiprocess_mode="livesum")
POOL_MAX = Gauge("flux_db_pool_max", "The pools' configured maximum, over the live workers.",
                 multiprocess_mode="livesum")
POOL_TIMEOUTS = Counter("flux_db_pool_timeouts", "Requests refused with 503: no connection within the timeout.")

# Collectors that read their figures when scraped (the outbox's backlog), added by the apps.
_scrape_collectors: list[Collector] = []

POOL_SAMPLE_SECONDS = 1.0
PROCESS_POOL_SAMPLE_SECONDS = 5.0
_pool_sampled_at = 0.0


# --- This process's live figures (the performance page, audit/performance.py) -----------------
# The requests of the last RECENT_SECONDS: (monotonic time, duration in seconds, 5xx or not).
RECENT_SECONDS = 10.0
_recent: collections.deque[tuple[float, float, bool]] = collections.deque(maxlen=50_000)
# Totals since the process started (rates are computed between two snapshots) and current figures
# (a consumer's lag...), which each service sets for its own snapshot.
totals: collections.Counter[str] = collections.Counter()
figures: dict[str, float] = {}


def note_request(duration: float, status: int) -> None:
    _recent.append((time.monotonic(), duration, status >= 500))


def _percentile(ordered: list[float], fraction: float) -> float:
    """The nearest-rank percentile of an ordered list."""
    return ordered[min(len(ordered) - 1, max(0, math.ceil(fraction * len(ordered)) - 1))]


def recent_requests(now: float | None = None, window: float = RECENT_SECONDS) -> dict[str, float | None]:
    """Requests per second, latency percentiles (ms) and the share of 5xx over the last `window`."""
    now = time.monotonic() if now is None else now
    recent = [entry for entry in list(_recent) if entry[0] >= now - window]
    if not recent:
        return {"requests_per_second": 0.0, "p50_ms": None, "p95_ms": None, "p99_ms": None, "error_rate": 0.0}
    durations = sorted(duration for _, duration, _ in recent)
    return {
        "requests_per_second": round(len(recent) / window, 2),
        "p50_ms": round(_percentile(durations, 0.50) * 1000, 1),
        "p95_ms": round(_percentile(durations, 0.95) * 1000, 1),
        "p99_ms": round(_percentile(durations, 0.99) * 1000, 1),
        "error_rate": round(sum(1 for *_, error in recent if error) / len(recent), 4),
    }


def existing_pool():
    """This process's PostgreSQL pool if it has been opened, else None. Never opens one: reading
    `connection.pool` creates the pool, with the database name of that moment, and a pool made
    before the tests switch to their test database would keep connecting to the real one."""
    from django.db import DEFAULT_DB_ALIAS, connections

    wrapper = connections[DEFAULT_DB_ALIAS]
    if wrapper.vendor != "postgresql":
        return None
    return type(wrapper)._connection_pools.get(wrapper.alias)


def pool_figures() -> dict[str, int] | None:
    pool = existing_pool()
    if pool is None:
        return None
    stats = pool.get_stats()
    return {name: stats.get(name, 0) for name in ("pool_max", "pool_size", "pool_available", "requests_waiting")}


def count_transactions(kinds_and_statuses: Iterable[tuple[str, str]]) -> None:
    """Count transactions that reached a status, once the surrounding transaction commits (a
    rolled-back one counts nothing)."""
    counts = collections.Counter(kinds_and_statuses)
    if counts:
        transaction.on_commit(lambda: _count(counts))


def _count(counts: collections.Counter) -> None:
    for (kind, status), n in counts.items():
        TRANSACTIONS.labels(kind, status).inc(n)
        totals[f"transactions.{kind}"] += n


def add_scrape_collector(collector: Collector) -> None:
    """Figures computed at scrape time by the worker that answers /metrics (not summed)."""
    if collector not in _scrape_collectors:
        _scrape_collectors.append(collector)


def sample_pool(force: bool = False) -> None:
    """This process's pool figures into the gauges, at most once a second (cheap, but a lock)."""
    global _pool_sampled_at
    now = time.monotonic()
    if not force and now - _pool_sampled_at < POOL_SAMPLE_SECONDS:
        return
    _pool_sampled_at = now
    figures = pool_figures()
    if figures is None:
        return
    POOL_SIZE.set(figures["pool_size"])
    POOL_AVAILABLE.set(figures["pool_available"])
    POOL_WAITING.set(figures["requests_waiting"])
    POOL_MAX.set(figures["pool_max"])


def _sample_pool_forever() -> None:
    """The pool gauges of a one-process service, every few seconds (its pool is the process's)."""
    while True:
        try:
            sample_pool(force=True)
        except Exception as error:  # a figure: never a reason to stop the process
            logger.debug("could not sample the pool: %s", error)
        time.sleep(PROCESS_POOL_SAMPLE_SECONDS)


def exposition() -> bytes:
    """Every worker's samples (multiprocess) or this process's, plus the scrape-time figures."""
    if MULTIPROCESS:
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = REGISTRY
    text = generate_latest(registry)
    if _scrape_collectors:
        scraped = CollectorRegistry(auto_describe=False)
        for collector in _scrape_collectors:
            scraped.register(collector)
        text += generate_latest(scraped)
    return text


def authorized(request: HttpRequest) -> bool:
    token = settings.FLUX_METRICS_TOKEN
    if not token:
        return True
    given = request.headers.get("Authorization", "")
    return hmac.compare_digest(given.encode(), f"Bearer {token}".encode())


def metrics_view(request: HttpRequest) -> HttpResponse:
    """GET /metrics: Prometheus text; behind `Authorization: Bearer $FLUX_METRICS_TOKEN` when set."""
    if request.method not in ("GET", "HEAD"):
        return error_response("method_not_allowed", "Use GET.", headers={"Allow": "GET, HEAD"})
    if not authorized(request):
        return error_response("not_authenticated", "Give the metrics token: Authorization: Bearer <token>.",
                              headers={"WWW-Authenticate": 'Bearer realm="metrics"'})
    sample_pool(force=True)
    return HttpResponse(exposition(), content_type=CONTENT_TYPE_LATEST, headers={"Cache-Control": "no-store"})


def serve_process_metrics(service: str, collectors: Iterable[Collector] = ()) -> int | None:
    """For a process that is not a web server: its metrics on FLUX_METRICS_PORT (host
    FLUX_METRICS_HOST, 127.0.0.1 by default), from a thread of prometheus-client. Returns the
    port, or None when FLUX_METRICS_PORT is not set. Scrape-time collectors go on the default
    registry here (one process: nothing to add up)."""
    for collector in collectors:
        REGISTRY.register(collector)
    port = settings.FLUX_METRICS_PORT
    if not port:
        return None
    server, _thread = start_http_server(port, addr=settings.FLUX_METRICS_HOST)
    threading.Thread(target=_sample_pool_forever, name="flux-pool-sampler", daemon=True).start()
    port = server.server_address[1]
    logger.info("%s metrics on http://%s:%s/metrics", service, settings.FLUX_METRICS_HOST, port)
    return port
