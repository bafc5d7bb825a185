"""The web server under load, for real (issue 11): bin/web (gunicorn, uvicorn workers) in a
subprocess on the PostgreSQL test database, driven over HTTP by many concurrent clients.

- 64 concurrent clients: no answer is a 5xx, and the server never holds more PostgreSQL
  connections than its configured bound (WEB_CONCURRENCY x FLUX_DB_POOL_MAX), polled in
  pg_stat_activity by its application_name (flux-web-under-test: its own, so that the pytest
  process's own connections, flux-web, are not counted).
- The pool starved on purpose (one worker, one connection, held by a request waiting on a row
  lock): the other requests are refused 503 service_unavailable with Retry-After in the error
  shape, and nothing of theirs is applied.
- An open live-tail stream gives its connection back: a transfer still gets the only one.

No timing assertion: the load is bounded in requests, every wait is a generous deadline."""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections import Counter
from collections.abc import Iterator

import psycopg
import pytest
from django.db import connection
from django.test import Client
from rest_framework_simplejwt.tokens import RefreshToken

from banking.models import Account
from banking.services import account_open, deposit_create
from banking.tests.ledger import assert_ledger_consistent, ledger_snapshot
from core.db.pool import RETRY_AFTER_SECONDS
from core.testing.nats import WebServer, database_url_for_subprocess, wait_until
from identity.models import Role
from identity.tests.factories import make_user

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the connection pool is PostgreSQL's"),
]

aiohttp = pytest.importorskip("aiohttp")

CLIENTS = 64
TRANSFERS_PER_CLIENT = 3
WORKERS, POOL_MAX = 2, 4


@pytest.fixture
def staff(db):
    return make_user("cap_agent", Role.AGENT), make_user("cap_supervisor", Role.SUPERVISOR)


def funded_account(customer, staff, amount: int = 1_000_00) -> Account:
    agent, supervisor = staff
    account = account_open(actor=supervisor, customer_id=customer.pk, kind="checking")
    if amount:
        deposit_create(initiator=agent, account_id=account.pk, amount=amount)
    account.refresh_from_db()
    return account


def token_for(user) -> str:
    return str(RefreshToken.for_user(user).access_token)


# The server under test names its connections (application_name flux-<FLUX_SERVICE>) apart from the
# pytest process's own, which are flux-web too: after the e2e tests, whose live_server threads run in
# the same pytest worker on the same test database, that process keeps pooled connections open, and
# counted with the server's they made a peak of 13 for a bound of 8 (CI, 2026-11-27).
SERVICE = "web-under-test"
APPLICATION_NAME = f"flux-{SERVICE}"


def start_server(**env: str) -> WebServer:
    return WebServer(env={"FLUX_LOG_SHIPPING": "0", "FLUX_SERVICE": SERVICE, **env}).start()


class ConnectionCounter:
    """Polls pg_stat_activity (its own connection, every 20 ms) for the server's connections to
    the test database; `peak` is the most seen at once."""

    def __init__(self) -> None:
        self.peak = 0
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        with psycopg.connect(database_url_for_subprocess(), autocommit=True) as conn:
            while not self._stop.is_set():
                count = conn.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND application_name = %s", [APPLICATION_NAME]
                ).fetchone()[0]
                self.peak, self.samples = max(self.peak, count), self.samples + 1
                self._stop.wait(0.02)

    def __enter__(self) -> ConnectionCounter:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(timeout=10)


async def post_transfers(base_url: str, jobs: list[tuple[str, dict]], *, repeat: int) -> list[tuple[int, dict]]:
    """Each job (token, body) is one client posting `repeat` transfers back to back, every client
    at once; returns every (status, JSON body)."""
    outcomes: list[tuple[int, dict]] = []
    async with aiohttp.ClientSession(base_url, timeout=aiohttp.ClientTimeout(total=120),
                                     connector=aiohttp.TCPConnector(limit=len(jobs))) as session:

        async def client(token: str, body: dict) -> None:
            for _ in range(repeat):
                headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": str(uuid.uuid4())}
                async with session.post("/api/v1/transfers/", json=body, headers=headers) as response:
                    outcomes.append((response.status, await response.json(content_type=None)))

        await asyncio.gather(*(client(token, body) for token, body in jobs))
    return outcomes


def test_64_concurrent_clients_get_no_5xx_and_connections_stay_within_the_bound(staff):
    customers = [make_user(f"cap{n}") for n in range(CLIENTS // 2)]
    jobs = []
    for customer in customers:
        first, second = funded_account(customer, staff), funded_account(customer, staff)
        token = token_for(customer)
        # Two clients per customer, each paying the other account: every account is contended.
        jobs.append((token, {"source_account": first.pk, "destination_iban": second.iban, "amount": "0.01"}))
        jobs.append((token, {"source_account": second.pk, "destination_iban": first.iban, "amount": "0.02"}))
    server = start_server(WEB_CONCURRENCY=str(WORKERS), FLUX_DB_POOL_MAX=str(POOL_MAX),
                          FLUX_DB_POOL_TIMEOUT="30")
    try:
        with ConnectionCounter() as connections:
            outcomes = asyncio.run(post_transfers(server.url, jobs, repeat=TRANSFERS_PER_CLIENT))
    finally:
        output = server.stop()

    statuses = Counter(status for status, _ in outcomes)
    assert sum(statuses.values()) == CLIENTS * TRANSFERS_PER_CLIENT
    assert not [status for status in statuses if status >= 500], (statuses, output[-3000:])
    assert statuses == {201: CLIENTS * TRANSFERS_PER_CLIENT}, statuses
    assert connections.samples > 0 and connections.peak >= 1
    assert connections.peak <= WORKERS * POOL_MAX, connections.peak
    assert_ledger_consistent()


@pytest.fixture
def row_lock() -> Iterator[callable]:
    """`row_lock(account)`: hold SELECT ... FOR UPDATE on the account's row, from a connection of
    the test's own, until the test ends (or `release()`)."""
    held: list[psycopg.Connection] = []

    def lock(account: Account):
        conn = psycopg.connect(database_url_for_subprocess())
        conn.execute("SELECT id FROM banking_account WHERE id = %s FOR UPDATE", [account.pk])
        held.append(conn)

        def release() -> None:
            conn.rollback()

        return release

    yield lock
    for conn in held:
        conn.close()


def waiting_on_a_lock() -> bool:
    """A web backend is waiting for a row lock (the request holding the pool's only connection)."""
    with psycopg.connect(database_url_for_subprocess(), autocommit=True) as conn:
        return conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND application_name = %s AND wait_event_type = 'Lock'", [APPLICATION_NAME]
        ).fetchone()[0] > 0


def test_a_starved_pool_answers_503_with_retry_after_and_applies_nothing(staff, row_lock):
    alice, bob = make_user("cap_alice"), make_user("cap_bob")
    alice_account, bob_account = funded_account(alice, staff), funded_account(bob, staff)
    bob_savings = funded_account(bob, staff, amount=0)
    alice_token, bob_token = token_for(alice), token_for(bob)
    server = start_server(WEB_CONCURRENCY="1", FLUX_DB_POOL_MAX="1", FLUX_DB_POOL_MIN="1",
                          FLUX_DB_POOL_TIMEOUT="0.5")
    try:
        release = row_lock(alice_account)

        async def scenario():
            async with aiohttp.ClientSession(server.url, timeout=aiohttp.ClientTimeout(total=60)) as session:

                async def transfer(token: str, body: dict):
                    headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": str(uuid.uuid4())}
                    async with session.post("/api/v1/transfers/", json=body, headers=headers) as response:
                        return response.status, dict(response.headers), await response.json(content_type=None)

                # Takes the worker's only connection, then waits on alice's locked row.
                holder = asyncio.create_task(transfer(alice_token, {
                    "source_account": alice_account.pk, "destination_iban": bob_account.iban, "amount": "7.00"}))
                await asyncio.to_thread(wait_until, waiting_on_a_lock, timeout=30,
                                        message="the first transfer never waited on the lock")
                before = await asyncio.to_thread(ledger_snapshot)
                refused = await asyncio.gather(*(transfer(bob_token, {
                    "source_account": bob_account.pk, "destination_iban": bob_savings.iban, "amount": "1.00"})
                    for _ in range(4)))
                after = await asyncio.to_thread(ledger_snapshot)
                release()
                return await holder, refused, before, after

        held, refused, before, after = asyncio.run(scenario())
    finally:
        output = server.stop()

    for status, headers, body in refused:
        assert status == 503, (status, body, output[-3000:])
        assert headers["Retry-After"] == str(RETRY_AFTER_SECONDS)
        assert set(body) == {"error"} and body["error"]["code"] == "service_unavailable"
        assert body["error"]["message"]
    # Nothing of the refused requests was applied: no balance, entry, transaction, audit event or
    # idempotency key changed while they were answered.
    assert after == before
    # The request that held the connection went through once the lock was released.
    assert held[0] == 201, held
    bob_savings.refresh_from_db()
    assert bob_savings.balance == 0
    assert_ledger_consistent()


def test_an_open_live_tail_gives_its_connection_back(staff, nats_server, alice_account, bob_account, alice):
    """A supervisor's live tail stays open for hours; with one connection per worker, a transfer
    must still get it while the stream is open."""
    supervisor = staff[1]
    browser = Client()
    browser.force_login(supervisor)
    session_cookie = browser.cookies["sessionid"].value
    alice_token = token_for(alice)
    server = WebServer(nats_server, env={"WEB_CONCURRENCY": "1", "FLUX_DB_POOL_MAX": "1",
                                         "FLUX_DB_POOL_TIMEOUT": "3", "FLUX_LOG_SHIPPING": "0"}).start()
    try:

        async def scenario():
            async with aiohttp.ClientSession(server.url, timeout=aiohttp.ClientTimeout(total=60),
                                             cookies={"sessionid": session_cookie}) as session:
                async with session.get("/staff/audit/stream/", headers={"Accept": "text/event-stream"}) as stream:
                    assert stream.status == 200
                    seen = ""
                    while '"live"' not in seen:  # replayed from the database, now waiting on NATS
                        seen += (await asyncio.wait_for(stream.content.readany(), 20)).decode()
                    headers = {"Authorization": f"Bearer {alice_token}", "Idempotency-Key": str(uuid.uuid4())}
                    body = {"source_account": alice_account.pk, "destination_iban": bob_account.iban,
                            "amount": "3.00"}
                    async with session.post("/api/v1/transfers/", json=body, headers=headers) as response:
                        return response.status, await response.json(content_type=None)

        status, body = asyncio.run(scenario())
    finally:
        output = server.stop()
    assert status == 201, (status, body, output[-3000:])
