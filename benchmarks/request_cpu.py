"""Benchmark: the CPU of one request, in process, with the server left out (the profile behind issue 11).

    .venv/bin/python benchmarks/capacity.py --clients 1 --duration 1   # seeds flux_capacity_bench once
    .venv/bin/python benchmarks/request_cpu.py 300                 # POST transfers/ through project.asgi
    .venv/bin/python benchmarks/request_cpu.py 300 wsgi             # the same through Django's WSGI handler
    .venv/bin/python benchmarks/request_cpu.py 300 wsgi-pyinstrument   # and its profile in /tmp/prof.txt
    BATCH=100 .venv/bin/python benchmarks/request_cpu.py 20 wsgi   # POST transfers/batch/ of 100
    GET=/api/v1/accounts/ACC/ .venv/bin/python benchmarks/request_cpu.py 300   # a GET (ACC: an account id)
    QUERIES=1 .venv/bin/python benchmarks/request_cpu.py 1 wsgi     # the SQL of one request

It drives the ASGI application (or the WSGI handler) directly, N sequential requests as bench-0
of benchmarks/capacity.py's database (DATABASE_URL, default flux_capacity_bench), and prints the
CPU and wall time per request: figures that a loaded machine disturbs far less than a server's.
"""

import asyncio  # noqa: E401
import json
import os
import sys
import time
import uuid
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))
os.chdir(BASE_DIR)
os.environ.update(
    {
        "DJANGO_SETTINGS_MODULE": os.environ.get("SETTINGS", "project.settings.prod"),
        "DATABASE_URL": os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/flux_capacity_bench"),
        "SECRET_KEY": "prof-only-Zq8vY3kP0aW7mN2bX5cR9tL4eH6jU1sD8fG3kQ7wE2rT5yI9oP4aS6dF",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "FLUX_NUM_PROXIES": "0",
        "SECURE_SSL_REDIRECT": "false",
        "FLUX_THROTTLE_USER": "100000000/min",
        "FLUX_LOG_SHIPPING": "0",
        "REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/9"),
        "FLUX_SERVICE": "prof",
        "FLUX_ACCESS_TOKEN_MINUTES": "120",
    }
)
N = int(sys.argv[1]) if len(sys.argv) > 1 else 300
MODE = sys.argv[2] if len(sys.argv) > 2 else "time"
BATCH = int(os.environ.get("BATCH", "0"))
from project.asgi import application  # noqa
from identity.tokens import token_pair_issue  # noqa
from identity.models import User  # noqa
from banking.models import Account  # noqa

user = User.objects.get(username="bench-0")
accounts = list(Account.objects.filter(customer=user).order_by("pk"))
token = token_pair_issue(user=user)["access"]  # as POST auth/token/ issues it (its family checked)
from django.db import connection  # noqa: E402

connection.close()
item = {"source_account": accounts[0].pk, "destination_iban": accounts[1].iban, "amount": "0.01", "reference": "prof"}
if BATCH:
    body = json.dumps({"transfers": [item] * BATCH}).encode()
    path = "/api/v1/transfers/batch/"
else:
    body = json.dumps(item).encode()
    path = "/api/v1/transfers/"
GET = os.environ.get("GET")
if GET:
    path = GET.replace("ACC", str(accounts[0].pk))
    body = b""


async def one():
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET" if GET else "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"127.0.0.1"),
            (b"content-type", b"application/json"),
            (b"authorization", f"Bearer {token}".encode()),
            (b"idempotency-key", str(uuid.uuid4()).encode()),
            (b"content-length", str(len(body)).encode()),
        ],
        "client": ("127.0.0.1", 5000),
        "server": ("127.0.0.1", 8000),
    }
    sent = []
    done = asyncio.Event()

    async def receive():
        if not sent:
            sent.append(1)
            return {"type": "http.request", "body": body, "more_body": False}
        await done.wait()
        return {"type": "http.disconnect"}

    status = []

    async def send(msg):
        if msg["type"] == "http.response.start":
            status.append(msg["status"])

    await application(scope, receive, send)
    done.set()
    return status[0]


async def main():
    for _ in range(20):
        await one()
    if MODE == "pyinstrument":
        from pyinstrument import Profiler

        p = Profiler(interval=0.0005, async_mode="disabled")
        p.start()
    c0, t0 = time.process_time(), time.perf_counter()
    statuses = {}
    for _ in range(N):
        s = await one()
        statuses[s] = statuses.get(s, 0) + 1
    c1, t1 = time.process_time(), time.perf_counter()
    if MODE == "pyinstrument":
        p.stop()
        open("/tmp/prof.txt", "w").write(p.output_text(unicode=False, color=False, show_all=False))
    print(f"{N} requests {statuses}: cpu {1000 * (c1 - c0) / N:.2f} ms/req, wall {1000 * (t1 - t0) / N:.2f} ms/req")


def wsgi_main():
    import io

    from django.core.handlers.wsgi import WSGIHandler

    h = WSGIHandler()

    def one_w():
        env = {
            "REQUEST_METHOD": "GET" if GET else "POST",
            "PATH_INFO": path,
            "SCRIPT_NAME": "",
            "QUERY_STRING": "",
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "8000",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "REMOTE_ADDR": "127.0.0.1",
            "CONTENT_TYPE": "application/json",
            "CONTENT_LENGTH": str(len(body)),
            "HTTP_HOST": "127.0.0.1",
            "HTTP_AUTHORIZATION": f"Bearer {token}",
            "HTTP_IDEMPOTENCY_KEY": str(uuid.uuid4()),
            "wsgi.input": io.BytesIO(body),
            "wsgi.url_scheme": "http",
            "wsgi.errors": sys.stderr,
        }
        st = []
        r = h(env, lambda s, hd: st.append(s))
        b"".join(r)
        r.close()
        return int(st[0][:3])

    for _ in range(20):
        one_w()
    if os.environ.get("QUERIES"):
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as q:
            print(one_w())
        for x in q.captured_queries:
            print(x["sql"][:300])
        return
    if MODE.endswith("pyinstrument"):
        from pyinstrument import Profiler

        p = Profiler(interval=float(os.environ.get("INTERVAL", "0.0002")))
        p.start()
    c0, t0 = time.process_time(), time.perf_counter()
    statuses = {}
    for _ in range(N):
        s = one_w()
        statuses[s] = statuses.get(s, 0) + 1
    c1, t1 = time.process_time(), time.perf_counter()
    if MODE.endswith("pyinstrument"):
        p.stop()
        open("/tmp/prof.txt", "w").write(p.output_text(unicode=False, color=False, show_all=False))
    print(
        f"WSGI {N} requests {statuses}: cpu {1000 * (c1 - c0) / N:.2f} ms/req, wall {1000 * (t1 - t0) / N:.2f} ms/req"
    )


if MODE.startswith("wsgi"):
    wsgi_main()
else:
    asyncio.run(main())
