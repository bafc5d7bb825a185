"""The ASGI handler Flux serves with: Django's, with its middleware chain run synchronously.

Flux's views are synchronous (DRF, the ORM) except a few streaming ones (the audit live tail).
Django's own ASGIHandler runs the middleware chain in async mode, and each middleware that is
synchronous at heart (every MiddlewareMixin one: sessions, locale, CSRF, authentication...) then
hops to a thread and back for its process_request and again for its process_response: about a
dozen thread hops per request, 3-4 ms of CPU of a transfer's 15 (benchmarks/capacity.py, issue
11). Here the whole chain runs in one hop to the request's thread, as under WSGI; an async view
is awaited from there (Django's sync path supports it) and a streaming answer is still sent by
the event loop, so server-sent events stream as before."""

from __future__ import annotations

from asgiref.sync import sync_to_async
from django.core.handlers import base
from django.core.handlers.asgi import ASGIHandler


class SyncChainASGIHandler(ASGIHandler):
    def __init__(self) -> None:
        base.BaseHandler.__init__(self)
        self.load_middleware(is_async=False)

    async def get_response_async(self, request):
        # thread_sensitive: the request's own thread (ASGIHandler gives each request a
        # ThreadSensitiveContext), where its database connection lives and is closed at the end.
        return await sync_to_async(self.get_response, thread_sensitive=True)(request)
