"""Benchmark: how much transfer traffic Flux carries on this machine, as a ratio to pgbench.

    .venv/bin/python benchmarks/capacity.py                # everything, about 2 minutes
    .venv/bin/python benchmarks/capacity.py --clients 16 --duration 10 --skip-pgbench

In one run, on the PostgreSQL at --postgres (default postgres://postgres@127.0.0.1:5432):

1. pgbench's built-in tpcb-like script on a database of its own (--pgbench-db, initialised once at
   --pgbench-scale), --pgbench-clients clients for --duration seconds: the machine's yardstick.
2. Flux's transfer API, served by bin/web (gunicorn, WEB_CONCURRENCY uvicorn workers, the
   production settings) which this script starts on a database of its own (--db, created afresh
   and migrated), seeded with one customer per client, each with two funded accounts and a JWT.
   Each client posts 0.01 transfers between its own two accounts with a fresh Idempotency-Key,
   back to back, at each of --clients (default 1, 16 and 64) for --duration seconds; then the hot
   account: --hot-clients clients all paying one account (a payroll, a merchant).

For each phase it prints transfers/s (201 answers per second) and the ratio to pgbench's tps,
latency percentiles (p50/p95/p99 of every answer), the count of each status, the peak number of
PostgreSQL connections the server held (pg_stat_activity, application_name flux-web, polled every
50 ms) and the CPU the web workers and the database's backends spent per transfer
(/proc, user + system). Rate limits count as in production (Redis: REDIS_URL, else a private
redis-server on a free port when installed, else local memory) with a rate out of reach, so their
cost is measured but they refuse nothing.

The figures depend on the machine and on what else runs on it: take them on a quiet machine.
Then batches: --batch-clients clients each posting batches of --batch-size 0.01 transfers between
its own two accounts (POST transfers/batch/, one Idempotency-Key per batch): transfers/s counts
the items posted, latencies are per batch. Last, the bulk import: a CSV of --import-lines lines
uploaded by an agent (POST imports/) and applied chunk by chunk (POST imports/{id}/apply/ until
finished), as the desk page does; its figure counts the lines applied per second of the whole.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))

from capacity_load import ConnectionWatcher, Context, pg_url, run_phases  # noqa: E402 (after the path)

SECRET_KEY = "capacity-benchmark-only-" + secrets.token_urlsafe(48)
TOKEN_MINUTES = 120  # every JWT outlives the run


# --- Plumbing ------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def admin_connection(base: str):
    import psycopg

    return psycopg.connect(pg_url(base, "postgres"), autocommit=True)


def recreate_database(base: str, name: str) -> None:
    with admin_connection(base) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def database_exists(base: str, name: str) -> bool:
    with admin_connection(base) as conn:
        return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone() is not None


def pg_connection_args(base: str) -> list[str]:
    from urllib.parse import urlparse

    url = urlparse(base)
    args = ["-h", url.hostname or "127.0.0.1", "-p", str(url.port or 5432), "-U", url.username or "postgres"]
    return args


def pg_env(base: str) -> dict[str, str]:
    from urllib.parse import urlparse

    password = urlparse(base).password
    return os.environ | ({"PGPASSWORD": password} if password else {})


# --- pgbench -------------------------------------------------------------------------------------


def run_pgbench(args) -> float:
    """tpcb-like tps on its own database (initialised once per scale)."""
    if shutil.which("pgbench") is None:
        sys.exit("pgbench is not installed (Debian: postgresql-contrib / postgresql-client)")
    conn_args, env = pg_connection_args(args.postgres), pg_env(args.postgres)
    initialised = False
    if database_exists(args.postgres, args.pgbench_db):
        import psycopg

        with psycopg.connect(pg_url(args.postgres, args.pgbench_db)) as conn:
            try:
                branches = conn.execute("SELECT count(*) FROM pgbench_branches").fetchone()[0]
                initialised = branches == args.pgbench_scale
            except psycopg.Error:
                initialised = False
    if not initialised:
        print(f"pgbench: initialising {args.pgbench_db} at scale {args.pgbench_scale}...", flush=True)
        recreate_database(args.postgres, args.pgbench_db)
        subprocess.run(["pgbench", *conn_args, "-i", "-q", "-s", str(args.pgbench_scale), args.pgbench_db],
                       env=env, check=True, capture_output=True)
    threads = min(args.pgbench_clients, os.cpu_count() or 1)
    out = subprocess.run(
        ["pgbench", *conn_args, "-b", "tpcb-like", "-c", str(args.pgbench_clients), "-j", str(threads),
         "-T", str(max(1, round(args.duration))), "-n", args.pgbench_db],
        env=env, capture_output=True, text=True,
    )
    if out.returncode != 0:
        sys.exit(f"pgbench failed:\n{out.stderr}")
    out = out.stdout
    for line in out.splitlines():
        if line.startswith("tps =") and "without initial connection time" in line:
            return float(line.split()[2])
    sys.exit(f"pgbench printed no tps:\n{out}")


# --- Flux: database, seed, server ----------------------------------------------------------------


def server_environment(args, database_url: str, redis_url: str | None) -> dict[str, str]:
    if args.stack == "run":
        return run_environment(args, database_url)
    env = os.environ | {
        "DJANGO_SETTINGS_MODULE": "project.settings.prod",
        "DATABASE_URL": database_url,
        "SECRET_KEY": SECRET_KEY,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "FLUX_NUM_PROXIES": "0",
        # Plain HTTP on the loopback: no redirect to https.
        "SECURE_SSL_REDIRECT": "false",
        "WEB_CONCURRENCY": str(args.workers),
        "FLUX_DB_POOL_MAX": str(args.pool_max),
        "FLUX_ACCESS_TOKEN_MINUTES": str(TOKEN_MINUTES),
        # Counted as in production, never refused: the benchmark measures the limit's cost.
        "FLUX_THROTTLE_USER": "100000000/min",
        # No NATS here: WARNING records would wait for one that never comes.
        "FLUX_LOG_SHIPPING": "0",
        "PORT": str(args.port),
        "FLUX_HOST": "127.0.0.1",
        "PYTHON": sys.executable,
    }
    env.pop("REDIS_URL", None)
    if redis_url:
        env["REDIS_URL"] = redis_url
    return env


def run_environment(args, database_url: str) -> dict[str, str]:
    """`make run`'s processes as a newcomer starts them on PostgreSQL: the development settings
    (DEBUG on), no Redis (rate limits in each worker's memory, at their default rates), the bundled
    nats-server, the relay, the consumer and the scheduler."""
    env = os.environ | {
        "DJANGO_SETTINGS_MODULE": "project.settings.dev",
        "DATABASE_URL": database_url,
        "SECRET_KEY": SECRET_KEY,  # the development settings take it from the environment
        "FLUX_ACCESS_TOKEN_MINUTES": str(TOKEN_MINUTES),
        "WEB_CONCURRENCY": str(args.workers),
        "FLUX_DB_POOL_MAX": str(args.pool_max),
        "PORT": str(args.port),
        "PYTHON": sys.executable,
    }
    for name in ("REDIS_URL", "NATS_URL", "FLUX_THROTTLE_USER", "FLUX_LOG_SHIPPING"):
        env.pop(name, None)
    return env


@dataclass
class Customer:
    username: str
    token: str
    source: int
    source_iban: str
    destination_iban: str


def seed(args, env: dict[str, str], count: int) -> tuple[list[Customer], str, str]:
    """Migrate the benchmark database and open `count` customers with two funded accounts each,
    plus the hot account; returns the customers, the hot account's IBAN and the agent's JWT (who
    uploads the bulk import). Runs in this process
    with the server's settings (as `flux-bench`, so its connections are not the server's)."""
    os.environ.update(env | {"FLUX_SERVICE": "bench", "FLUX_DB_POOL_MAX": "2"})
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from banking.services import account_open, deposit_create
    from identity.models import Role, User
    from identity.tokens import token_pair_issue

    call_command("migrate", verbosity=0)
    agent = User.objects.create_user(username="bench-agent", role=Role.AGENT)
    supervisor = User.objects.create_user(username="bench-supervisor", role=Role.SUPERVISOR)
    # Under the cash approval threshold (5000.00): posted at once, room for 499,999 transfers.
    funds = 4_999_99
    customers = []
    for n in range(count):
        user = User.objects.create_user(username=f"bench-{n}", role=Role.CUSTOMER)
        accounts = []
        for _ in range(2):
            account = account_open(actor=supervisor, customer_id=user.pk, kind="checking")
            deposit_create(initiator=agent, account_id=account.pk, amount=funds)
            accounts.append(account)
        customers.append(Customer(user.username, token_pair_issue(user=user)["access"],
                                  accounts[0].pk, accounts[0].iban, accounts[1].iban))
    merchant = User.objects.create_user(username="bench-merchant", role=Role.CUSTOMER)
    hot = account_open(actor=supervisor, customer_id=merchant.pk, kind="checking")
    connection.close()
    connection.close_pool()
    return customers, hot.iban, token_pair_issue(user=agent)["access"]


class Server:
    def __init__(self, env: dict[str, str], log_path: Path) -> None:
        self.env = env
        self.log = log_path.open("w")
        self.process: subprocess.Popen | None = None

    def start(self, port: int, stack: str = "web") -> None:
        if stack == "run":
            # What `make run` starts once its database is migrated and seeded (Makefile, "run").
            subprocess.run([str(BASE_DIR / "bin" / "nats-dev-credentials")], cwd=BASE_DIR, check=True)
            command = [str(Path(sys.executable).parent / "honcho"), "start", "-f", "Procfile", "-p", str(port),
                       "-e", ".env,var/nats/credentials.env"]
        else:
            command = [str(BASE_DIR / "bin" / "web")]
        self.process = subprocess.Popen(command, env=self.env, cwd=BASE_DIR,
                                        stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                sys.exit(f"bin/web exited; see {self.log.name}")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5) as probe:
                    probe.settimeout(10)
                    probe.sendall(b"GET /api/v1/ HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
                    if probe.recv(12).startswith(b"HTTP/1.1"):
                        return
            except OSError:
                pass
            time.sleep(0.3)
        sys.exit("bin/web did not answer within 60 s")

    def descendants(self) -> list[int]:
        """The started process and every process under it."""
        if self.process is None:
            return []
        children: dict[int, list[int]] = {}
        table = subprocess.run(["ps", "-e", "-o", "pid=,ppid="], capture_output=True, text=True).stdout
        for line in table.splitlines():
            pid, ppid = (int(field) for field in line.split())
            children.setdefault(ppid, []).append(pid)
        found, queue = [], [self.process.pid]
        while queue:
            pid = queue.pop()
            found.append(pid)
            queue.extend(children.get(pid, []))
        return found

    def pids(self) -> list[int]:
        """The web server: gunicorn's master and its workers."""
        return [pid for pid in self.descendants() if b"gunicorn" in _cmdline(pid)]

    def other_pids(self) -> list[int]:
        """With --stack run, the other processes of `make run`: nats-server, the relay, the consumer,
        the notifier, the scheduler and honcho, which relays every line they print (not the access
        log: the Procfile writes it to var/log/access.log; the shells between are idle)."""
        return [pid for pid in self.descendants() if b"gunicorn" not in _cmdline(pid)]

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.log.close()


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def start_redis() -> tuple[subprocess.Popen | None, str | None]:
    if os.environ.get("REDIS_URL"):
        return None, os.environ["REDIS_URL"]
    binary = shutil.which("redis-server")
    if binary is None:
        return None, None
    port = free_port()
    process = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                                "--appendonly", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.05)
    return process, f"redis://127.0.0.1:{port}/0"


def run_flux(args, pgbench_tps: float | None) -> None:
    database_url = pg_url(args.postgres, args.db)
    redis, redis_url = start_redis() if args.stack == "web" else (None, None)
    customers_needed = max([*args.clients, args.hot_clients, args.batch_clients])
    print(f"flux: {args.db} afresh, {customers_needed} customers; rate limits in "
          f"{'Redis' if redis_url else 'local memory'}", flush=True)
    recreate_database(args.postgres, args.db)
    env = server_environment(args, database_url, redis_url)
    customers, hot_iban, agent_token = seed(args, env, customers_needed)
    server = Server(env | {"FLUX_SERVICE": "web"}, Path(args.server_log))
    try:
        server.start(args.port, args.stack)
        print(f"flux: {'bin/web' if args.stack == 'web' else 'make run (web, nats, relay, consumer, scheduler)'} "
              f"up ({args.workers} workers x pool {args.pool_max} = at most "
              f"{args.workers * args.pool_max} web connections); {args.duration:.0f} s per phase", flush=True)
        ctx = Context(args, f"http://127.0.0.1:{args.port}", customers, hot_iban, agent_token,
                      ConnectionWatcher(args.postgres, args.db), server)
        asyncio.run(run_phases(ctx, pgbench_tps))
    finally:
        server.stop()
        if redis is not None:
            redis.terminate()
            redis.wait()
    print(f"server log: {args.server_log}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--postgres", default=os.environ.get("PGBASE", "postgres://postgres@127.0.0.1:5432"),
                        help="PostgreSQL server URL, without a database name")
    parser.add_argument("--db", default="flux_capacity_bench", help="Flux's database (dropped and recreated)")
    parser.add_argument("--pgbench-db", default="flux_pgbench")
    parser.add_argument("--pgbench-scale", type=int, default=10)
    parser.add_argument("--pgbench-clients", type=int, default=16)
    parser.add_argument("--skip-pgbench", action="store_true")
    parser.add_argument("--duration", type=float, default=15.0, help="seconds per phase")
    parser.add_argument("--clients", type=lambda text: [int(n) for n in text.split(",")], default=[1, 16, 64])
    parser.add_argument("--hot-clients", type=int, default=16)
    # bin/web's defaults.
    parser.add_argument("--workers", type=int, default=int(os.environ.get("WEB_CONCURRENCY", "2")))
    parser.add_argument("--pool-max", type=int, default=int(os.environ.get("FLUX_DB_POOL_MAX", "8")))
    parser.add_argument("--port", type=int, default=free_port())
    parser.add_argument("--batch-size", type=int, default=100, help="0 to leave the batch phase out")
    parser.add_argument("--batch-clients", type=int, default=16)
    parser.add_argument("--import-lines", type=int, default=10_000, help="0 to leave the import phase out")
    parser.add_argument("--stack", choices=["web", "run"], default="web",
                        help="web: bin/web alone, production settings, rate limits in Redis; run: what "
                             "`make run` starts (development settings, no Redis, nats-server, relay, "
                             "consumer, scheduler), their CPU counted too")
    parser.add_argument("--server-log", default=str(BASE_DIR / "var" / "capacity-server.log"))
    args = parser.parse_args()
    (BASE_DIR / "var").mkdir(exist_ok=True)

    pgbench_tps = None
    if not args.skip_pgbench:
        pgbench_tps = run_pgbench(args)
        print(f"pgbench tpcb-like, {args.pgbench_clients} clients, scale {args.pgbench_scale}: "
              f"{pgbench_tps:.0f} tps", flush=True)
    run_flux(args, pgbench_tps)


if __name__ == "__main__":
    main()
