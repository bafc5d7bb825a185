"""The ASGI application Flux serves (project/asgi.py), driven in process: an ordinary request
crosses to its thread once (Django's own handler crosses about a dozen times with the async chain,
and three times with the sync chain: issue 11), and whatever way a request ends (an answer, a 400
for an unreadable request, a crash, a client gone, a cancelled request) request_finished is sent
on the request's thread, which gives its database connection back. Counted, not timed. The real
server (threads, pool, streaming) is project/tests/test_asgi_server.py."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import threading

import pytest
from asgiref import sync
from django.conf import settings
from django.core.signals import request_finished, request_started
from rest_framework_simplejwt.tokens import RefreshToken

from identity.api.views import MeView

pytestmark = pytest.mark.django_db(transaction=True)


def scope_for(path: str, *, query_string: bytes = b"", headers: tuple = ()) -> dict:
    return {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
        "path": path, "raw_path": path.encode(), "query_string": query_string, "root_path": "",
        "headers": [(b"host", b"localhost"), *headers], "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 80),
    }


def call(app, path: str, **scope) -> list[dict]:
    messages = [{"type": "http.request", "body": b"", "more_body": False}]
    sent: list[dict] = []

    async def receive() -> dict:
        if messages:
            return messages.pop(0)
        await asyncio.sleep(3600)  # no disconnect while the answer is sent
        return {"type": "http.disconnect"}

    async def send(message: dict) -> None:
        sent.append(message)

    asyncio.run(app(scope_for(path, **scope), receive, send))
    return sent


@pytest.fixture
def signals_seen():
    """Each request_started and request_finished sent, with the thread it was sent on."""
    seen: list[tuple[str, int]] = []

    def started(**kwargs):
        seen.append(("started", threading.get_ident()))

    def finished(**kwargs):
        seen.append(("finished", threading.get_ident()))

    request_started.connect(started, weak=False)
    request_finished.connect(finished, weak=False)
    yield seen
    request_started.disconnect(started)
    request_finished.disconnect(finished)


@pytest.fixture
def hops(monkeypatch) -> list[str]:
    """Every crossing from the event loop to a thread, by the function it ran."""
    crossed: list[str] = []
    original = sync.SyncToAsync.__call__

    async def counting(self, *args, **kwargs):
        crossed.append(getattr(self.func, "__qualname__", repr(self.func)))
        return await original(self, *args, **kwargs)

    monkeypatch.setattr(sync.SyncToAsync, "__call__", counting)
    return crossed


def test_an_ordinary_request_crosses_to_its_thread_once(hops, signals_seen):
    from project.asgi import application

    sent = call(application, "/api/v1/no-such-thing/")

    assert sent[0]["status"] == 404
    assert b'"not_found"' in sent[1]["body"]
    # request_started, the whole middleware chain and the view, and closing: one call.
    assert hops == ["SyncChainASGIHandler._respond"]
    # Both signals on the same thread (where the request's connection lives), not the loop's.
    [(_, started_on), (_, finished_on)] = signals_seen
    assert [name for name, _ in signals_seen] == ["started", "finished"]
    assert started_on == finished_on != threading.get_ident()


def test_an_undecodable_query_string_is_django_s_400(signals_seen):
    from project.asgi import application

    sent = call(application, "/api/v1/accounts/", query_string=b"a=\xff")

    assert sent[0]["status"] == 400
    assert [name for name, _ in signals_seen] == ["started", "finished"]


def test_a_crash_is_the_api_s_500_and_the_request_still_finishes(alice, monkeypatch, signals_seen):
    from project.asgi import application

    def crash(self, request, *args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(MeView, "get", crash)
    token = str(RefreshToken.for_user(alice).access_token)

    sent = call(application, "/api/v1/me/", headers=((b"authorization", f"Bearer {token}".encode()),))

    assert sent[0]["status"] == 500
    assert (b"Content-Type", b"application/json") in sent[0]["headers"]
    assert b'"server_error"' in sent[1]["body"]
    assert [name for name, _ in signals_seen] == ["started", "finished"]


def test_a_client_gone_before_its_body_arrived_costs_no_thread(hops, signals_seen):
    from project.asgi import application

    sent: list[dict] = []

    async def receive() -> dict:
        return {"type": "http.disconnect"}

    async def send(message: dict) -> None:
        sent.append(message)

    asyncio.run(application(scope_for("/api/v1/no-such-thing/"), receive, send))

    assert sent == [] and hops == [] and signals_seen == []


def test_a_cancelled_request_finishes_on_its_thread_which_is_not_lent_again(alice, monkeypatch, signals_seen):
    """The server cancels a request (a worker stopping) while its view runs: the view cannot be
    stopped, but once it returns the request is closed on its thread all the same, and that
    thread, busy until then, is not given to the next request."""
    from project.asgi import application, django_application

    entered, release = threading.Event(), threading.Event()

    def slow(self, request, *args, **kwargs):
        entered.set()
        release.wait(30)
        return original(self, request, *args, **kwargs)

    original = MeView.get
    monkeypatch.setattr(MeView, "get", slow)
    token = str(RefreshToken.for_user(alice).access_token)
    scope = scope_for("/api/v1/me/", headers=((b"authorization", f"Bearer {token}".encode()),))

    async def scenario() -> int:
        idle_before = len(django_application._idle_executors)
        messages = [{"type": "http.request", "body": b"", "more_body": False}]

        async def receive() -> dict:
            if messages:
                return messages.pop(0)
            await asyncio.sleep(3600)
            return {"type": "http.disconnect"}

        async def send(message: dict) -> None:
            raise AssertionError(f"a cancelled request sent {message}")

        request = asyncio.create_task(application(scope, receive, send))
        await asyncio.to_thread(entered.wait, 30)
        request.cancel()
        with pytest.raises(asyncio.CancelledError):
            await request
        assert len(django_application._idle_executors) <= idle_before  # not lent while busy
        release.set()
        for _ in range(300):  # the view returns, then the request closes, on its thread
            if ("finished" in [name for name, _ in signals_seen]):
                break
            await asyncio.sleep(0.01)
        return idle_before

    asyncio.run(scenario())

    assert [name for name, _ in signals_seen] == ["started", "finished"]
    assert signals_seen[0][1] == signals_seen[1][1]


@pytest.mark.django_db(transaction=False)
def test_a_worker_hides_what_start_up_built_from_the_garbage_collector():
    """project/asgi.py freezes its start-up objects (gc.freeze): a full collection of a worker no
    longer traverses Django, the URL modules and the views (40-50 ms each, with the worker's
    requests stopped). In a fresh interpreter, as a worker imports it."""
    script = ("import gc, project.asgi; frozen = gc.get_freeze_count(); gc.collect();"
              " print(frozen, len(gc.get_objects()))")
    env = os.environ | {"DJANGO_SETTINGS_MODULE": "project.settings.test", "FLUX_LOG_SHIPPING": "0"}
    output = subprocess.run([sys.executable, "-c", script], env=env, cwd=settings.BASE_DIR, capture_output=True,
                            text=True, timeout=120, check=True).stdout
    frozen, tracked = map(int, output.split()[-2:])
    assert frozen > 50_000
    assert tracked < frozen / 10  # what a collection still looks at
