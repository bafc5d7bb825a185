"""The ASGI handler (core/asgi.py) in the real web server: bin/web (gunicorn, one uvicorn worker)
in a subprocess on the PostgreSQL test database, spoken to over HTTP.

- Sequential requests reuse the worker's request thread: 200 of them start no thread at all
  (Django's handler starts two per request: one for the request, one to join it). The worker
  runs uvloop and httptools.
- Every database connection goes back to the pool, also those of requests whose client left
  before the answer: afterwards the pool still lends its every connection at once.
- The live tail still streams server-sent events, and a client leaving ends the stream (its
  NATS subscription closes).
- Error answers come out whole: the API's 404, a 400 for a bad Host header or a NUL character
  (the 400 for an undecodable request and a crash's 500: test_asgi.py, in process).

No timing assertion: every wait is a generous deadline."""

from __future__ import annotations

import asyncio
import http.client
import json
import socket
import urllib.request
import uuid
from collections import Counter
from pathlib import Path

import nats
import psycopg
import pytest
from django.db import connection
from django.test import Client
from rest_framework_simplejwt.tokens import RefreshToken

from audit.signing import announcement_headers
from banking.models import Account, Transaction, TransactionKind
from banking.tests.ledger import assert_ledger_consistent
from core.testing.nats import WebServer, database_url_for_subprocess, wait_until

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the connection pool is PostgreSQL's"),
]

# Its connections apart from the pytest process's own (flux-web), as in test_capacity_server.py.
SERVICE = "web-asgi-under-test"
APPLICATION_NAME = f"flux-{SERVICE}"
# Threads a worker may hold: the event loop's, the pool's workers and scheduler, a request thread
# or two, the loop's default executor. Each request starting its own would pass this quickly.
THREADS_BOUND = 16


def start_server(nats_server=None, **env: str) -> WebServer:
    return WebServer(nats_server, env={"WEB_CONCURRENCY": "1", "FLUX_LOG_SHIPPING": "0",
                                       "FLUX_SERVICE": SERVICE, **env}).start()


def worker_pid(server: WebServer) -> int:
    """The one uvicorn worker under gunicorn (bin/web execs gunicorn: its pid is the master's)."""
    master = server.process.pid
    children = Path(f"/proc/{master}/task/{master}/children")
    return int(wait_until(lambda: children.read_text().split(), timeout=30, message="no worker")[0])


def thread_ids(pid: int) -> set[int]:
    return {int(entry.name) for entry in Path(f"/proc/{pid}/task").iterdir()}


def token_for(user) -> str:
    return str(RefreshToken.for_user(user).access_token)


def transfer_request(token: str, source: Account, destination: Account, amount: str = "0.01") -> bytes:
    body = json.dumps({"source_account": source.pk, "destination_iban": destination.iban, "amount": amount})
    return (f"POST /api/v1/transfers/ HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
            f"Authorization: Bearer {token}\r\nIdempotency-Key: {uuid.uuid4()}\r\n"
            f"Content-Length: {len(body)}\r\n\r\n{body}").encode()


def backends(state: str | None = None, *, waiting_on_a_lock: bool = False) -> int:
    """The server's PostgreSQL connections (in `state`, or waiting on a row lock)."""
    query = ("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
             "AND application_name = %s")
    params: list = [APPLICATION_NAME]
    if state:
        query, params = query + " AND state = %s", [*params, state]
    if waiting_on_a_lock:
        query += " AND wait_event_type = 'Lock'"
    with psycopg.connect(database_url_for_subprocess(), autocommit=True) as conn:
        return conn.execute(query, params).fetchone()[0]


class RowLock:
    """SELECT ... FOR UPDATE on an account's row from the test's own connection, until release()."""

    def __init__(self, account: Account) -> None:
        self.conn = psycopg.connect(database_url_for_subprocess())
        self.conn.execute("SELECT id FROM banking_account WHERE id = %s FOR UPDATE", [account.pk])

    def release(self) -> None:
        self.conn.rollback()
        self.conn.close()


def test_sequential_requests_start_no_thread(alice, alice_account, bob_account):
    token = token_for(alice)
    server = start_server()
    try:
        pid = worker_pid(server)
        client = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)

        def requests(count: int) -> Counter:
            statuses: Counter = Counter()
            for n in range(count):
                auth = {"Authorization": f"Bearer {token}"}
                if n % 4 == 0:
                    client.request("GET", "/api/v1/nope/")
                elif n % 4 == 1:
                    client.request("GET", "/api/v1/me/", headers=auth)
                elif n % 4 == 2:
                    client.request("GET", f"/api/v1/accounts/{alice_account.pk}/", headers=auth)
                else:
                    body = {"source_account": alice_account.pk, "destination_iban": bob_account.iban,
                            "amount": "0.01"}
                    client.request("POST", "/api/v1/transfers/", body=json.dumps(body), headers=auth | {
                        "Content-Type": "application/json", "Idempotency-Key": str(uuid.uuid4())})
                response = client.getresponse()
                response.read()
                statuses[response.status] += 1
            return statuses

        requests(20)  # the worker's first requests: imports, the pool's connections, one thread
        before = thread_ids(pid)
        statuses = requests(200)
        after = thread_ids(pid)
        client.close()
        libraries = Path(f"/proc/{pid}/maps").read_text()
    finally:
        output = server.stop()

    # uvicorn's "auto" picked the C event loop and HTTP parser (requirements/base.txt), not its
    # silent fallback to asyncio's loop and h11.
    assert "/uvloop/loop." in libraries and "/httptools/parser/parser." in libraries

    assert statuses == {404: 50, 200: 100, 201: 50}, (statuses, output[-3000:])
    assert after <= before, f"threads started: {sorted(after - before)}"
    assert len(after) <= THREADS_BOUND, len(after)
    assert_ledger_consistent()


def test_connections_go_back_to_the_pool_also_when_clients_leave_early(alice, alice_account, bob_account):
    pool_max = 2
    token = token_for(alice)
    server = start_server(FLUX_DB_POOL_MAX=str(pool_max), FLUX_DB_POOL_MIN="1", FLUX_DB_POOL_TIMEOUT="10")
    try:
        # Requests whose client leaves once they are sent: before any answer, some before the
        # server has even read them.
        for n in range(20):
            with socket.create_connection(("127.0.0.1", server.port)) as gone:
                gone.sendall(transfer_request(token, alice_account, bob_account) if n % 2 else
                             b"GET /api/v1/nope/ HTTP/1.1\r\nHost: localhost\r\n\r\n")
        # Requests that hold a connection while they wait on a locked row, whose clients leave
        # meanwhile: they are answered to no one once the lock is released.
        lock = RowLock(alice_account)
        gone = [socket.create_connection(("127.0.0.1", server.port)) for _ in range(pool_max)]
        for client in gone:
            client.sendall(transfer_request(token, alice_account, bob_account, "1.00"))
        wait_until(lambda: backends(waiting_on_a_lock=True) == pool_max, timeout=30,
                   message="the transfers never waited on the lock")
        for client in gone:
            client.close()
        lock.release()
        wait_until(lambda: backends("active") + backends("idle in transaction") == 0, timeout=30,
                   message="a connection stayed busy after every request ended")

        # Every connection is in the pool again: as many requests as it holds get one at once.
        lock = RowLock(alice_account)

        async def concurrent_transfers() -> list[int]:
            async def transfer() -> int:
                reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
                writer.write(transfer_request(token, alice_account, bob_account, "2.00"))
                status = int((await reader.readline()).split()[1])
                writer.close()
                return status

            tasks = [asyncio.create_task(transfer()) for _ in range(pool_max)]
            await asyncio.to_thread(wait_until, lambda: backends(waiting_on_a_lock=True) == pool_max,
                                    timeout=30, message="the pool did not lend its every connection")
            lock.release()
            return await asyncio.gather(*tasks)

        statuses = asyncio.run(concurrent_transfers())
        wait_until(lambda: backends("active") + backends("idle in transaction") == 0, timeout=30,
                   message="a connection stayed busy after every request ended")
    finally:
        output = server.stop()

    assert statuses == [201] * pool_max, (statuses, output[-3000:])
    # The transfers whose clients left were applied, each once; nothing else moved.
    amounts = Counter(Transaction.objects.filter(kind=TransactionKind.TRANSFER).values_list("amount", flat=True))
    assert amounts[100] == pool_max and amounts[200] == pool_max, amounts
    assert amounts[1] <= 10
    assert_ledger_consistent()


def test_the_live_tail_streams_and_a_client_leaving_ends_it(sam, nats_server):
    browser = Client()
    browser.force_login(sam)
    cookie = f"sessionid={browser.cookies['sessionid'].value}"
    server = start_server(nats_server)

    def live_tail_connections() -> int:
        with urllib.request.urlopen(f"{nats_server.monitor_url}/connz?limit=1000", timeout=5) as answer:
            return sum(1 for conn in json.load(answer)["connections"] if conn.get("name") == "flux-live-tail")

    async def scenario() -> str:
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(f"GET /staff/audit/stream/ HTTP/1.1\r\nHost: localhost\r\nCookie: {cookie}\r\n"
                     "Accept: text/event-stream\r\n\r\n".encode())
        seen = ""
        while '"live"' not in seen:  # replayed from the database, now listening to NATS
            seen += (await asyncio.wait_for(reader.read(65536), 20)).decode()
        assert seen.startswith("HTTP/1.1 200"), seen
        assert "content-type: text/event-stream" in seen.lower()
        announcer = await nats.connect(nats_server.url)
        record = {"seq": 41, "id": 9001, "occurred_at": "2026-01-01T10:00:00+00:00", "actor": "alice",
                  "action": "transaction.posted", "target_type": "transaction", "target_id": "12",
                  "data": {}, "hash": "0" * 64}
        payload = json.dumps(record).encode()
        await announcer.publish("auditlog.recorded.x", payload,
                                headers=announcement_headers("auditlog.recorded.x", payload))
        await announcer.flush()
        await announcer.close()
        event = ""
        while "id: 41" not in event:
            event += (await asyncio.wait_for(reader.read(65536), 20)).decode()
        assert live_tail_connections() == 1
        writer.close()  # the supervisor closes the tab
        await writer.wait_closed()
        return event

    try:
        event = asyncio.run(scenario())
        # The server noticed: the stream ended and closed its NATS connection.
        wait_until(lambda: live_tail_connections() == 0, timeout=30,
                   message="the stream went on after its client left")
        wait_until(lambda: backends("active") + backends("idle in transaction") == 0, timeout=30,
                   message="the stream's connection stayed busy")
        # The worker serves on.
        with urllib.request.urlopen(f"{server.url}/manifest.json", timeout=30) as answer:
            assert answer.status == 200
    finally:
        output = server.stop()
    assert '"actor":"alice"' in event, (event, output[-3000:])


def test_error_answers_come_out_whole():
    server = start_server()
    try:
        client = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
        client.request("GET", "/api/v1/nope/")
        not_found = client.getresponse()
        not_found_body = json.loads(not_found.read())
        client.request("GET", "/api/v1/nope/?a=%00")
        nul = client.getresponse()
        nul_body = json.loads(nul.read())
        client.close()
        with socket.create_connection(("127.0.0.1", server.port), timeout=30) as raw:
            raw.sendall(b"GET /api/v1/ HTTP/1.1\r\nHost: bad host!\r\nConnection: close\r\n\r\n")
            bad_host = b""
            while chunk := raw.recv(65536):
                bad_host += chunk
    finally:
        output = server.stop()

    assert not_found.status == 404, output[-3000:]
    assert not_found_body == {"error": {"code": "not_found", "message": "Not found."}}
    assert "no-store" in not_found.headers["Cache-Control"]
    assert nul.status == 400 and nul_body["error"]["code"] == "validation_error", nul_body
    assert bad_host.startswith(b"HTTP/1.1 400 "), bad_host[:200]
    assert bad_host.endswith(b"</html>\n") or b"Bad Request" in bad_host, bad_host[-200:]
