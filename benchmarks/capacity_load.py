"""benchmarks/capacity.py's load: the clients, the phases and what each measures (split from it).

Each phase drives bin/web with aiohttp clients and records transfers/s, latencies, statuses, the
peak number of the server's PostgreSQL connections and the CPU per transfer of the web workers and
of their backends (benchmarks/capacity.py's docstring says what each phase is).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import statistics
import sys
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from capacity import Customer, Server


def pg_url(base: str, database: str) -> str:
    return f"{base.rstrip('/')}/{database}"


# --- Measuring -----------------------------------------------------------------------------------


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU of these processes so far (/proc, clock ticks)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError):
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / ticks


@dataclass
class Phase:
    name: str
    clients: int
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    statuses: Counter = field(default_factory=Counter)
    errors: Counter = field(default_factory=Counter)
    peak_connections: int = 0
    web_cpu: float = 0.0
    db_cpu: float = 0.0
    others_cpu: float | None = None  # --stack run: nats-server, relay, consumer, notifier, scheduler, honcho
    client_cpu: float = 0.0  # this process: the load's clients and the connection watcher
    posted_items: int = 0  # batches: the items posted (a batch answers 200, one result per item)
    # Each client's latencies: a worker that got more of the clients' connections than another
    # serves each of them more slowly, which shows here and not in the percentiles.
    client_latencies: dict[int, list[float]] = field(default_factory=dict)
    # --stack run: how far the audit pipeline was behind when the phase ended (events in the
    # outbox, events not yet in the audit log) and how long it took to catch up with both.
    audit_behind: tuple[int, int] | None = None
    audit_caught_up_seconds: float | None = None

    @property
    def transfers(self) -> int:
        return self.posted_items or self.statuses.get(201, 0)

    @property
    def rate(self) -> float:
        return self.transfers / self.seconds if self.seconds else 0.0

    def percentile(self, p: float) -> float:
        if not self.latencies:
            return float("nan")
        if len(self.latencies) == 1:
            return self.latencies[0] * 1000
        return statistics.quantiles(self.latencies, n=100, method="inclusive")[int(p) - 1] * 1000

    def client_means(self) -> tuple[float, float]:
        """The lowest and highest of the clients' mean latencies, ms."""
        means = [statistics.fmean(values) * 1000 for values in self.client_latencies.values() if values]
        return (min(means), max(means)) if means else (float("nan"), float("nan"))


class ConnectionWatcher:
    """Polls pg_stat_activity for the server's connections (application_name flux-web) and the
    backend pids serving the benchmark database (for their CPU)."""

    def __init__(self, base: str, database: str) -> None:
        self.base, self.database = base, database
        self.peak = 0
        self.backend_pids: set[int] = set()

    async def sample(self, conn) -> None:
        cursor = await conn.execute(
            "SELECT pid, application_name FROM pg_stat_activity WHERE datname = %s", [self.database])
        rows = await cursor.fetchall()
        self.peak = max(self.peak, sum(1 for _, name in rows if name == "flux-web"))
        # The backends of every Flux process (the relay's and the consumer's too, with --stack run),
        # not the benchmark's own (flux-bench).
        self.backend_pids |= {pid for pid, name in rows if name.startswith("flux-") and name != "flux-bench"}

    async def watch(self, stop: asyncio.Event) -> None:
        import psycopg

        async with await psycopg.AsyncConnection.connect(pg_url(self.base, "postgres"), autocommit=True) as conn:
            while not stop.is_set():
                await self.sample(conn)
                try:
                    await asyncio.wait_for(stop.wait(), timeout=0.05)
                except TimeoutError:
                    pass


def phase_stack(server: Server) -> str:
    return "run" if server.env.get("DJANGO_SETTINGS_MODULE") == "project.settings.dev" else "web"


@contextlib.asynccontextmanager
async def measured(phase: Phase, server: Server, watcher: ConnectionWatcher):
    """Around a phase's work: its seconds, the CPU of the web workers and of their PostgreSQL
    backends, and the peak number of the server's connections (watched every 50 ms)."""
    stop = asyncio.Event()
    watcher.peak = 0
    watching = asyncio.create_task(watcher.watch(stop))
    await asyncio.sleep(0.2)  # the watcher has its first sample (and backend pids)
    web = server.pids()  # read once: the processes do not change during a phase
    others = server.other_pids() if phase_stack(server) == "run" else []
    web_before, others_before = cpu_seconds(web), cpu_seconds(others)
    db_before = cpu_seconds(sorted(watcher.backend_pids))
    client_before = time.process_time()
    started = time.monotonic()
    try:
        yield
    finally:
        phase.seconds = time.monotonic() - started
        phase.web_cpu = cpu_seconds(web) - web_before
        if others:
            phase.others_cpu = cpu_seconds(others) - others_before
        phase.client_cpu = time.process_time() - client_before
        # A backend the pool opened during the phase counts from zero (all its CPU is the phase's).
        phase.db_cpu = cpu_seconds(sorted(watcher.backend_pids)) - db_before
        stop.set()
        await watching
        phase.peak_connections = watcher.peak
        if others:
            await audit_catch_up(phase, watcher)


AUDIT_BEHIND_SQL = (
    "SELECT (SELECT count(*) FROM audit_outboxmessage), "
    "(SELECT count(*) FROM audit_auditevent WHERE id > (SELECT COALESCE(max(event_id), 0) FROM audit_auditlogrecord))"
)


async def audit_catch_up(phase: Phase, watcher: ConnectionWatcher, limit: float = 60.0) -> None:
    """How far the relay and the consumer were behind at the end of the phase, and how long they
    took to catch up (the outbox empty and the log holding the last event), up to `limit` s."""
    import psycopg

    async with await psycopg.AsyncConnection.connect(pg_url(watcher.base, watcher.database), autocommit=True) as conn:
        started = time.monotonic()
        while True:
            behind = await (await conn.execute(AUDIT_BEHIND_SQL)).fetchone()
            if phase.audit_behind is None:
                phase.audit_behind = behind
            if behind == (0, 0) or time.monotonic() - started > limit:
                break
            await asyncio.sleep(0.05)
        if behind == (0, 0):
            phase.audit_caught_up_seconds = time.monotonic() - started


async def drive(url: str, customers: list[Customer], destination: str | None, seconds: float,
                phase: Phase, watcher: ConnectionWatcher, server: Server, batch: int = 0) -> None:
    """Each customer posts 0.01 transfers back to back for `seconds`: to their own second account,
    or to `destination` (the hot account) when given; with `batch`, batches of that many."""
    import aiohttp

    connector = aiohttp.TCPConnector(limit=len(customers) + 1)
    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(url, connector=connector, timeout=timeout) as session:
        deadline = 0.0  # set once the measurement has started: every answer counted is in its time

        async def client(index: int, customer: Customer) -> None:
            mine = phase.client_latencies.setdefault(index, [])
            headers = {"Authorization": f"Bearer {customer.token}"}
            body = {"source_account": customer.source, "destination_iban": destination or customer.destination_iban,
                    "amount": "0.01", "reference": "capacity"}
            path = "/api/v1/transfers/"
            if batch:
                body, path = {"transfers": [body] * batch}, "/api/v1/transfers/batch/"
            while time.monotonic() < deadline:
                started = time.perf_counter()
                try:
                    async with session.post(path, json=body,
                                            headers=headers | {"Idempotency-Key": str(uuid.uuid4())}) as response:
                        answer = await response.read()
                        phase.statuses[response.status] += 1
                        if batch and response.status == 200:
                            results = json.loads(answer)["results"]
                            phase.posted_items += sum(1 for result in results if result["status"] == "posted")
                except (aiohttp.ClientError, TimeoutError) as exc:
                    phase.errors[type(exc).__name__] += 1
                    continue
                phase.latencies.append(time.perf_counter() - started)
                mine.append(phase.latencies[-1])

        async with measured(phase, server, watcher):
            deadline = time.monotonic() + seconds
            await asyncio.gather(*(client(index, customer) for index, customer in enumerate(customers)))


# --- Phases --------------------------------------------------------------------------------------


def single_phase(clients: int):
    async def run(ctx) -> Phase:
        phase = Phase(f"single, {clients} clients", clients)
        await drive(ctx.url, ctx.customers[:clients], None, ctx.args.duration, phase, ctx.watcher, ctx.server)
        return phase

    return run


def hot_phase(clients: int):
    async def run(ctx) -> Phase:
        phase = Phase(f"hot account, {clients} -> 1", clients)
        await drive(ctx.url, ctx.customers[:clients], ctx.hot_iban, ctx.args.duration, phase, ctx.watcher,
                    ctx.server)
        return phase

    return run


def batch_phase(size: int, clients: int):
    """Issue 11, item 4: each client posts batches of `size` transfers (POST transfers/batch/)."""

    async def run(ctx) -> Phase:
        phase = Phase(f"batches of {size}, {clients} cl.", clients)
        await drive(ctx.url, ctx.customers[:clients], None, ctx.args.duration, phase, ctx.watcher, ctx.server,
                    batch=size)
        return phase

    return run


def import_csv(customers: list[Customer], lines: int) -> bytes:
    """A bulk import of `lines` lines among the customers' accounts: 60% deposits, 20% withdrawals,
    20% transfers, all of 0.01 to 4.00 (under every approval threshold), a fresh nonce per run."""
    rng = random.Random(lines)
    nonce = uuid.uuid4().hex[:8]
    rows = ["type,account,amount,counterparty,reference"]
    for number in range(lines):
        customer = customers[number % len(customers)]
        roll, amount = rng.random(), f"{rng.randint(0, 3)}.{rng.randint(1, 99):02d}"
        if roll < 0.6:
            rows.append(f"deposit,{customer.source_iban},{amount},,capacity {nonce} {number}")
        elif roll < 0.8:
            rows.append(f"withdrawal,{customer.source_iban},{amount},,capacity {nonce} {number}")
        else:
            rows.append(f"transfer,{customer.source_iban},{amount},{customer.destination_iban},"
                        f"capacity {nonce} {number}")
    return ("\r\n".join(rows) + "\r\n").encode()


def import_phase(lines: int):
    """Issue 11: a bulk CSV import of `lines` lines, as the desk page drives it: the upload (every
    line checked), then POST imports/{id}/apply/ until finished. Transfers/s counts the lines
    applied; the latencies are per request."""

    async def run(ctx) -> Phase:
        import aiohttp

        phase = Phase(f"import of {lines} lines", 1)
        content = import_csv(ctx.customers, lines)
        headers = {"Authorization": f"Bearer {ctx.agent_token}"}
        async with (aiohttp.ClientSession(ctx.url, timeout=aiohttp.ClientTimeout(total=300)) as session,
                    measured(phase, ctx.server, ctx.watcher)):
            begun = time.perf_counter()
            async with session.post("/api/v1/imports/?file_name=capacity.csv", data=content,
                                    headers=headers | {"Content-Type": "text/csv"}) as response:
                phase.statuses[response.status] += 1
                batch = await response.json()
            phase.latencies.append(time.perf_counter() - begun)
            if response.status != 201:
                sys.exit(f"the import upload answered {response.status}: {batch}")
            progress: dict = {}
            while not progress.get("finished"):
                begun = time.perf_counter()
                async with session.post(f"/api/v1/imports/{batch['id']}/apply/", headers=headers) as response:
                    phase.statuses[response.status] += 1
                    progress = await response.json()
                phase.latencies.append(time.perf_counter() - begun)
                if response.status != 200:
                    sys.exit(f"applying the import answered {response.status}: {progress}")
        phase.posted_items = progress["counts"]["applied"]
        print(f"  import: {lines} lines in {phase.seconds:.2f} s ({len(phase.latencies) - 1} apply requests): "
              f"{progress['counts']}", flush=True)
        return phase

    return run


@dataclass
class Context:
    args: argparse.Namespace
    url: str
    customers: list[Customer]
    hot_iban: str
    agent_token: str
    watcher: ConnectionWatcher
    server: Server


def print_phase(phase: Phase, pgbench_tps: float | None) -> None:
    ratio = f"{phase.rate / pgbench_tps:.3f}x" if pgbench_tps else "-"
    statuses = ", ".join(f"{status}: {n}" for status, n in sorted(phase.statuses.items()))
    errors = ", ".join(f"{name}: {n}" for name, n in sorted(phase.errors.items()))
    per = phase.transfers or 1
    low, high = phase.client_means()
    print(f"{phase.name:<26} {phase.rate:9.1f}/s {ratio:>8}  p50 {phase.percentile(50):7.1f} ms  "
          f"p95 {phase.percentile(95):7.1f} ms  p99 {phase.percentile(99):7.1f} ms  "
          f"{f'client means {low:.0f}-{high:.0f} ms  ' if phase.client_latencies else ''}"
          f"peak conns {phase.peak_connections:3d}  cpu/transfer web {phase.web_cpu / per * 1000:5.2f} ms "
          f"db {phase.db_cpu / per * 1000:5.2f} ms "
          f"{'' if phase.others_cpu is None else f'others {phase.others_cpu / per * 1000:5.2f} ms '}"
          f"client {phase.client_cpu / per * 1000:5.2f} ms  "
          f"[{statuses}{'; ' + errors if errors else ''}]", flush=True)
    if phase.audit_behind is not None:
        caught_up = phase.audit_caught_up_seconds
        print(f"{'':<26} audit behind at the end: {phase.audit_behind[0]} in the outbox, "
              f"{phase.audit_behind[1]} not in the log; "
              f"{f'caught up in {caught_up:.2f} s' if caught_up is not None else 'not caught up in 60 s'}",
              flush=True)


async def run_phases(ctx: Context, pgbench_tps: float | None) -> None:
    args = ctx.args
    phases = [*(single_phase(n) for n in args.clients), hot_phase(args.hot_clients)]
    if args.batch_size:
        phases.append(batch_phase(args.batch_size, args.batch_clients))
    if args.import_lines:
        phases.append(import_phase(args.import_lines))
    for run in phases:
        phase = await run(ctx)
        if phase is not None:
            print_phase(phase, pgbench_tps)
