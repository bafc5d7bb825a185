"""The scheduler: what must happen on time, in a process of its own (`manage.py run_scheduler`).

Jobs are listed in settings.FLUX_SCHEDULE as (name, "module.function", every_seconds); the
function takes no argument and returns how many things it did. Today: expiring pending
transactions (banking) and purging old idempotency keys (core); later timed work is a line there.

Safe twice, safe together. Every job is written to be run again (it re-reads what it acts on
under a row lock, or deletes what is already gone), and on PostgreSQL each run also holds a
session advisory lock named after the job: a second scheduler (a second replica, a rolling
deploy) that finds the lock taken skips that run instead of doing the same work at once. The lock
dies with the session, so a scheduler killed mid-job never leaves it held. Each run is named
(`job-<name>-<random>`): the audit events of the changes it makes carry that id as their
request_id, and so do its log lines."""

from __future__ import annotations

import hashlib
import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings
from django.db import close_old_connections, connection
from django.utils.module_loading import import_string
from prometheus_client import Counter, Gauge, Histogram

from core.metrics import totals
from core.request_id import bound_request_id

logger = logging.getLogger("flux.scheduler")

RUNS = Counter("flux_scheduler_runs", "Scheduler job runs, by job and outcome (done, skipped, failed).",
               ["job", "outcome"])
DONE = Counter("flux_scheduler_items", "What the scheduler's jobs did (transactions expired, keys purged...).",
               ["job"])
LAST_SUCCESS = Gauge("flux_scheduler_last_success_timestamp_seconds", "When each job last ran to its end.", ["job"])
DURATION = Histogram("flux_scheduler_job_duration_seconds", "How long each job's runs take.", ["job"])

DONE_RUN, SKIPPED, FAILED = "done", "skipped", "failed"


@dataclass
class Job:
    name: str
    function: Callable[[], int]
    every_seconds: float
    next_at: float = field(default=0.0)


def jobs_from_settings() -> list[Job]:
    return [Job(name, import_string(path), float(every)) for name, path, every in settings.FLUX_SCHEDULE]


def lock_key(name: str) -> int:
    """A stable signed 64-bit advisory lock key for a job name."""
    return int.from_bytes(hashlib.sha256(f"flux.scheduler.{name}".encode()).digest()[:8], "big", signed=True)


class _JobLock:
    """The job's PostgreSQL advisory lock on this thread's connection (nothing on SQLite, whose
    writers are serialised anyway). `acquired` is False when another session holds it."""

    def __init__(self, name: str):
        self.key = lock_key(name)
        self.acquired = False
        self.postgres = connection.vendor == "postgresql"

    def __enter__(self) -> _JobLock:
        if not self.postgres:
            self.acquired = True
            return self
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s)", [self.key])
            self.acquired = bool(cursor.fetchone()[0])
        return self

    def __exit__(self, *exc) -> None:
        if self.postgres and self.acquired:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [self.key])


def run_job(job: Job) -> str:
    """One run of `job`: done, skipped (another scheduler holds its lock) or failed (logged)."""
    close_old_connections()
    started = time.monotonic()
    with bound_request_id(f"job-{job.name}-{uuid.uuid4().hex[:12]}"):
        try:
            with _JobLock(job.name) as lock:
                if not lock.acquired:
                    logger.info("job %s skipped: another scheduler is running it", job.name)
                    outcome = SKIPPED
                else:
                    done = job.function()
                    DONE.labels(job.name).inc(done or 0)
                    LAST_SUCCESS.labels(job.name).set_to_current_time()
                    if done:
                        logger.info("job %s: %s done", job.name, done)
                    outcome = DONE_RUN
        except Exception:
            logger.exception("job %s failed", job.name)
            outcome = FAILED
        finally:
            # As after a request: the connection goes back (a pooled one to the pool) between runs.
            close_old_connections()
    DURATION.labels(job.name).observe(time.monotonic() - started)
    RUNS.labels(job.name, outcome).inc()
    totals[f"scheduler.{outcome}"] += 1
    return outcome


def run_forever(jobs: list[Job], stop: threading.Event, *, tick_seconds: float = 1.0) -> None:
    """Run each job when due (at start, then every `every_seconds`) until `stop` is set. A run
    that fails is tried again at its next turn."""
    while not stop.is_set():
        now = time.monotonic()
        for job in jobs:
            if stop.is_set():
                break
            if now >= job.next_at:
                run_job(job)
                job.next_at = time.monotonic() + job.every_seconds
        stop.wait(tick_seconds)
