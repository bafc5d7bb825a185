"""The ASGI application Flux serves (project/asgi.py): its middleware chain runs synchronously, in
one hop to the request's thread, instead of Django's async chain that hops to a thread and back
for each synchronous middleware (18 hops per request, issue 11). Counted, not timed."""

from __future__ import annotations

import asyncio

import pytest
from asgiref import sync

pytestmark = pytest.mark.django_db(transaction=True)


def call(app, path: str) -> list[dict]:
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
        "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "",
        "headers": [(b"host", b"localhost")], "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 80),
    }
    messages = [{"type": "http.request", "body": b"", "more_body": False}]
    sent: list[dict] = []

    async def receive() -> dict:
        if messages:
            return messages.pop(0)
        await asyncio.sleep(3600)  # no disconnect while the answer is sent
        return {"type": "http.disconnect"}

    async def send(message: dict) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    return sent


def test_a_request_crosses_to_a_thread_a_few_times_not_once_per_middleware(monkeypatch):
    from project.asgi import application

    hops = []
    original = sync.SyncToAsync.__call__

    async def counting(self, *args, **kwargs):
        hops.append(getattr(self.func, "__qualname__", repr(self.func)))
        return await original(self, *args, **kwargs)

    monkeypatch.setattr(sync.SyncToAsync, "__call__", counting)
    sent = call(application, "/api/v1/no-such-thing/")
    assert sent[0]["status"] == 404
    # The request_started signal's receivers, the whole middleware chain and the view, closing.
    assert len(hops) <= 3, hops
