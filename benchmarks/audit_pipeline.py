"""Benchmark: how fast the audit pipeline drains the outbox into the hash-chained audit log.

    .venv/bin/python benchmarks/audit_pipeline.py                     # about 20 s
    .venv/bin/python benchmarks/audit_pipeline.py --code /tmp/flux-before   # the code before batches

On the PostgreSQL at --postgres (default postgres://postgres@127.0.0.1:5432), on a database of its
own (--db, created afresh and migrated) and a nats-server of its own (free port, temporary store):

1. --events audit events written to the outbox through `audit.services.audit_record`, in
   transactions of --per-transaction, as services write them (nothing running meanwhile).
2. relay alone: `manage.py audit_relay` publishes them to JetStream; timed from the first message
   in the stream to the last (the process's start-up is not counted).
3. consumer alone: `manage.py audit_consume` stores them in the chain; timed from the first row
   stored to the last (the chain head's length, polled every 20 ms).
4. both: as many events again written with the relay stopped and the consumer idle, then the relay
   started: timed from the first new row in the log to the last.

Each phase prints events/s and the CPU its process spent per event (/proc: user + system). Then
it checks that every event is in the log exactly once and that the chain verifies. --code runs
the relay and the consumer of another copy of Flux (e.g. the code before a change:
`git archive <commit> | tar -x -C /tmp/flux-before`), with this repository's database and NATS
set-up. It refuses to run while benchmarks/capacity.py does (their figures would mix).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings.test")

POLL_SECONDS = 0.02
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def recreate_database(base: str, name: str) -> str:
    import psycopg

    with psycopg.connect(f"{base.rstrip('/')}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"{base.rstrip('/')}/{name}"


def cpu_seconds(pid: int) -> float:
    """User + system CPU a live process has spent so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


class Process:
    """`manage.py <command>` of the code under test, against the benchmark's database and NATS."""

    def __init__(self, code: Path, command: str, env: dict[str, str]) -> None:
        self.output = tempfile.TemporaryFile(mode="w+")
        self.process = subprocess.Popen([sys.executable, str(code / "manage.py"), command], cwd=code, env=env,
                                        stdout=self.output, stderr=subprocess.STDOUT, text=True)

    def cpu(self) -> float:
        return cpu_seconds(self.process.pid)

    def stop(self) -> str:
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=30)
        self.output.seek(0)
        return self.output.read()


def write_events(count: int, per_transaction: int, nonce: str) -> float:
    """`count` events in the outbox, `per_transaction` per commit; returns the seconds it took."""
    from django.db import transaction

    from audit import actions
    from audit.services import audit_record

    started = time.perf_counter()
    for first in range(0, count, per_transaction):
        with transaction.atomic():
            for number in range(first, min(first + per_transaction, count)):
                audit_record(actor=None, action=actions.TRANSACTION_POSTED, target_type="transaction",
                             target_id=number, data={"amount": "12.34", "currency": "EUR", "kind": "transfer",
                                                     "reference": f"bench {nonce} {number}",
                                                     "request_id": f"{nonce}-{number}"})
    return time.perf_counter() - started


def chain_length() -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT length FROM audit_chainhead WHERE id = 1")
        row = cursor.fetchone()
    return row[0] if row else 0


async def stream_messages(js) -> int:
    from django.conf import settings
    from nats.js.errors import NotFoundError

    try:
        return (await js.stream_info(settings.FLUX_AUDIT_STREAM)).state.messages
    except NotFoundError:
        return 0


def wait_for(progress, goal: int, *, timeout: float = 120) -> int:
    """Poll `progress()` until it reaches `goal`; return where it stood."""
    deadline = time.monotonic() + timeout
    while (value := progress()) < goal:
        if time.monotonic() > deadline:
            sys.exit(f"stuck at {value}/{goal} after {timeout:.0f} s")
        time.sleep(POLL_SECONDS)
    return value


def phase(label: str, progress, goal: int, processes: list[Process], *, started_at: int) -> None:
    """Time `progress()` from its first step past `started_at` (the processes' start-up is not
    counted) to `goal`, and the CPU `processes` spent meanwhile; print the rate."""
    first = wait_for(progress, started_at + 1)
    began, cpu_before = time.perf_counter(), sum(process.cpu() for process in processes)
    wait_for(progress, goal)
    seconds, cpu = time.perf_counter() - began, sum(process.cpu() for process in processes) - cpu_before
    moved = goal - first
    print(f"  {label:<14} {goal - started_at:6d} events  {seconds:6.2f} s  {moved / seconds:8.0f} events/s  "
          f"CPU {1000 * cpu / moved:5.2f} ms/event")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--postgres", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument("--db", default="flux_audit_bench")
    parser.add_argument("--events", type=int, default=3000)
    parser.add_argument("--per-transaction", type=int, default=10)
    parser.add_argument("--code", type=Path, default=BASE_DIR, help="the Flux whose relay and consumer run")
    args = parser.parse_args()
    running = subprocess.run(["pgrep", "-f", "benchmarks/capacity.py"], capture_output=True, text=True).stdout
    if running.strip():
        sys.exit("benchmarks/capacity.py is running: wait for it to finish")

    os.environ["DATABASE_URL"] = recreate_database(args.postgres, args.db)
    import django

    django.setup()
    import nats
    from django.core.management import call_command

    from audit.chain import verify
    from audit.models import AuditEvent, AuditLogRecord
    from core.testing.nats import NatsServer

    call_command("migrate", verbosity=0)
    store = tempfile.TemporaryDirectory(prefix="flux-audit-bench-")
    server = NatsServer(Path(store.name) / "jetstream")
    server.start()
    env = os.environ | {"DATABASE_URL": os.environ["DATABASE_URL"], "NATS_URL": server.url,
                        "DJANGO_SETTINGS_MODULE": "project.settings.test"}
    loop = asyncio.new_event_loop()
    nc = loop.run_until_complete(nats.connect(server.url))
    js = nc.jetstream()

    def in_stream() -> int:
        return loop.run_until_complete(stream_messages(js))

    count, nonce = args.events, str(time.time_ns())
    print(f"audit pipeline of {args.code}: {count} events per phase, {args.per_transaction} per transaction")
    try:
        seconds = write_events(count, args.per_transaction, nonce)
        print(f"  {'outbox writes':<14} {count:6d} events  {seconds:6.2f} s  {count / seconds:8.0f} events/s")

        relay = Process(args.code, "audit_relay", env)
        phase("relay alone", in_stream, count, [relay], started_at=0)
        relay.stop()

        consumer = Process(args.code, "audit_consume", env)
        phase("consumer alone", chain_length, count, [consumer], started_at=0)

        write_events(count, args.per_transaction, nonce + "b")
        relay = Process(args.code, "audit_relay", env)
        wait_for(in_stream, count + 1)  # the relay has started: the consumer's work is timed
        phase("both", chain_length, 2 * count, [relay, consumer], started_at=count)
        relay.stop()
        consumer_output = consumer.stop()
    finally:
        loop.run_until_complete(nc.close())
        server.stop()

    logged = AuditLogRecord.objects.count()
    distinct = AuditLogRecord.objects.values("event_id").distinct().count()
    verdict = verify()
    print(f"  log: {logged} rows for {AuditEvent.objects.count()} events ({distinct} distinct), chain ok={verdict.ok}")
    print("  " + consumer_output.strip().splitlines()[-1])
    return 0 if logged == distinct == 2 * count and verdict.ok else 1


if __name__ == "__main__":
    sys.exit(main())
