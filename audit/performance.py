"""Live figures of every Flux process, carried over NATS, for the performance page
(/staff/performance/).

Each long-running process (every web worker, the relay, the consumer, the scheduler) publishes a
snapshot of its own figures every SNAPSHOT_SECONDS on core NATS, `metrics.<service>.<instance>`:
requests per second, latency percentiles and the share of 5xx over the last 10 s (web), its rates
since the previous snapshot (transfers, events published or stored, jobs run), its current
figures (the outbox backlog, the consumer's lag, the chain's length) and its database pool. Web
workers also subscribe to `metrics.>` and keep the newest snapshot of each instance, so whichever
worker answers the page's request knows the whole deployment. Nothing is stored: a process that
stops publishing drops off the page after STALE_SECONDS. Core NATS, fire and forget: a snapshot
lost while NATS is away is simply not shown, and nothing ever waits for NATS."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import socket
import threading
import time

from django.conf import settings
from django.db import DatabaseError, close_old_connections

from core import metrics

logger = logging.getLogger("flux.performance")

SNAPSHOT_SECONDS = 2.0
STALE_SECONDS = 10.0
SUBJECT_PREFIX = "metrics"

_latest: dict[str, dict] = {}
_latest_lock = threading.Lock()
_state = {"connected": False}
_started: set[str] = set()


def instance_name() -> str:
    """host-pid, as one NATS subject token (no dots)."""
    return f"{socket.gethostname()}-{os.getpid()}".replace(".", "_").replace(" ", "_")


class SnapshotMaker:
    """This process's snapshots; rates are per second since the previous one."""

    def __init__(self, service: str):
        self.service = service
        self.instance = instance_name()
        self.previous: tuple[float, dict[str, int]] | None = None

    def make(self) -> dict:
        now = time.monotonic()
        totals = dict(metrics.totals)
        rates = {}
        if self.previous is not None:
            then, before = self.previous
            elapsed = max(now - then, 1e-6)
            rates = {name: round((value - before.get(name, 0)) / elapsed, 2) for name, value in totals.items()}
        self.previous = (now, totals)
        snapshot = {
            "service": self.service,
            "instance": self.instance,
            "pid": os.getpid(),
            "at": time.time(),
            "rates": rates,
            "figures": dict(metrics.figures),
            "pool": _pool(),
        }
        if self.service == "web":
            snapshot["requests"] = metrics.recent_requests()
        if self.service == "relay":
            snapshot["figures"].update(_outbox())
        return snapshot


def _pool() -> dict | None:
    try:
        return metrics.pool_figures()
    except Exception:  # a figure: never a reason to fail the snapshot
        return None


def _outbox() -> dict:
    from audit.health import outbox_figures

    try:
        close_old_connections()
        return outbox_figures()
    except DatabaseError:
        return {}
    finally:
        close_old_connections()


def remember(snapshot: dict) -> None:
    key = f"{snapshot.get('service')}.{snapshot.get('instance')}"
    with _latest_lock:
        _latest[key] = snapshot | {"received": time.time()}


def processes(now: float | None = None) -> list[dict]:
    """The newest snapshot of every process heard from in the last STALE_SECONDS."""
    now = time.time() if now is None else now
    with _latest_lock:
        for key in [key for key, snapshot in _latest.items() if now - snapshot["received"] > STALE_SECONDS]:
            del _latest[key]
        current = list(_latest.values())
    return sorted(current, key=lambda snapshot: (snapshot["service"], snapshot["instance"]))


def connected() -> bool:
    return _state["connected"]


def start(service: str, *, listen: bool | None = None) -> None:
    """Publish this process's snapshots (and, for web, listen to every process's) from a daemon
    thread, until the process ends. Once per process and service."""
    if not settings.FLUX_PERFORMANCE_SNAPSHOTS or service in _started:
        return
    _started.add(service)
    listen = service == "web" if listen is None else listen
    thread = threading.Thread(target=lambda: asyncio.run(_run(service, listen)), name=f"flux-metrics-{service}",
                              daemon=True)
    thread.start()


async def _run(service: str, listen: bool) -> None:
    from audit.nats import close_quietly, connect

    maker = SnapshotMaker(service)
    subject = f"{SUBJECT_PREFIX}.{service}.{maker.instance}"

    async def received(message) -> None:
        try:
            remember(json.loads(message.data))
        except (ValueError, TypeError, AttributeError):
            logger.debug("ignored a snapshot that is not one, on %s", message.subject)

    while True:
        nc = None
        try:
            nc = await connect(f"flux-metrics-{service}-{maker.instance}", allow_reconnect=False, connect_timeout=2)
            if listen:
                await nc.subscribe(f"{SUBJECT_PREFIX}.>", cb=received)
            _state["connected"] = True
            while nc.is_connected:
                snapshot = await asyncio.to_thread(maker.make)
                await nc.publish(subject, json.dumps(snapshot).encode())
                await asyncio.sleep(SNAPSHOT_SECONDS)
        except Exception as error:  # NATS away: try again later, never disturb the process
            logger.debug("performance snapshots: %s", error)
        finally:
            _state["connected"] = False
            if nc is not None:
                await close_quietly(nc)
        await asyncio.sleep(SNAPSHOT_SECONDS)


def _rate(snapshot: dict, name: str) -> float:
    return float(snapshot.get("rates", {}).get(name, 0.0))


def process_row(snapshot: dict) -> dict:
    """One process as the page shows it."""
    requests = snapshot.get("requests") or {}
    pool = snapshot.get("pool") or {}
    figures = snapshot.get("figures") or {}
    rates = snapshot.get("rates") or {}
    transfers = sum(value for name, value in rates.items() if name.startswith("transactions."))
    service = snapshot["service"]
    return {
        "key": f"{snapshot['service']}.{snapshot['instance']}",
        "service": snapshot["service"],
        "instance": snapshot["instance"],
        "requests_per_second": requests.get("requests_per_second"),
        "p50_ms": requests.get("p50_ms"),
        "p95_ms": requests.get("p95_ms"),
        "p99_ms": requests.get("p99_ms"),
        "error_rate": requests.get("error_rate"),
        "transfers_per_second": round(transfers, 2),
        "events_published_per_second": _rate(snapshot, "audit_events_published") if service == "relay" else None,
        "events_stored_per_second": _rate(snapshot, "audit_events_stored") if service == "consumer" else None,
        "outbox_backlog": figures.get("outbox_backlog"),
        "consumer_lag": figures.get("consumer_lag"),
        "chain_length": figures.get("chain_length"),
        "pool_in_use": (pool["pool_size"] - pool["pool_available"]) if pool else None,
        "pool_max": pool.get("pool_max") if pool else None,
        "age_seconds": round(max(0.0, time.time() - snapshot.get("at", time.time())), 1),
    }


def performance_status() -> dict:
    """What /staff/performance/ shows: every process, and the deployment's totals."""
    rows = [process_row(snapshot) for snapshot in processes()]
    web = [row for row in rows if row["service"] == "web" and row["requests_per_second"] is not None]
    requests = sum(row["requests_per_second"] for row in web)
    errors = sum(row["requests_per_second"] * (row["error_rate"] or 0) for row in web)
    relay = next((row for row in rows if row["service"] == "relay"), None)
    consumer = next((row for row in rows if row["service"] == "consumer"), None)
    return {
        "connected": connected(),
        "checked_at": time.time(),
        "summary": {
            "requests_per_second": round(requests, 2),
            "p99_ms": max((row["p99_ms"] for row in web if row["p99_ms"] is not None), default=None),
            "error_rate": round(errors / requests, 4) if requests else 0.0,
            "transfers_per_second": round(sum(row["transfers_per_second"] for row in rows), 2),
            "outbox_backlog": relay["outbox_backlog"] if relay else None,
            "consumer_lag": consumer["consumer_lag"] if consumer else None,
            "processes": len(rows),
        },
        "processes": rows,
    }
