"""`manage.py run_scheduler`: the scheduler process (core/scheduler.py), until SIGINT or SIGTERM.
`--once` runs every job once and exits (cron, or a check by hand). The command lives in audit, not
core, because the process also publishes its live figures on NATS (audit/performance.py)."""

import signal
import threading

from django.core.management.base import BaseCommand

from audit import performance
from core.metrics import serve_process_metrics
from core.scheduler import FAILED, jobs_from_settings, run_forever, run_job


class Command(BaseCommand):
    help = "Run the scheduled jobs (expire pending transactions, purge idempotency keys) until stopped."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="Run every job once, then exit.")

    def handle(self, *args, once=False, **options):
        jobs = jobs_from_settings()
        if once:
            outcomes = {job.name: run_job(job) for job in jobs}
            for name, outcome in outcomes.items():
                self.stdout.write(f"{name}: {outcome}")
            if FAILED in outcomes.values():
                raise SystemExit(1)
            return
        stop = threading.Event()
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: stop.set())
        performance.start("scheduler")
        serve_process_metrics("scheduler")
        self.stdout.write("scheduler: " + ", ".join(f"{job.name} every {job.every_seconds:g} s" for job in jobs))
        run_forever(jobs, stop)
        self.stdout.write("scheduler stopped")
