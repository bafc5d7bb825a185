"""The ASGI handler Flux serves with: Django's, with each ordinary request's synchronous work done
in one hop to a request thread that is reused.

Flux's views are synchronous (DRF, the ORM) except a few streaming ones (the audit live tail).
Django's own ASGIHandler runs the middleware chain in async mode, and each middleware that is
synchronous at heart (every MiddlewareMixin one: sessions, locale, CSRF, authentication...) then
hops to a thread and back for its process_request and again for its process_response: about a
dozen thread hops per request, 3-4 ms of CPU of a transfer's 15 (benchmarks/capacity.py, issue
11). Here the whole chain runs synchronously, as under WSGI; an async view is awaited from there
(Django's sync path supports it).

One hop, not three. Even with the chain in one hop, Django's handle() crosses to the thread three
times per request: the request_started signal (its receivers are synchronous), the chain, and
response.close() (request_finished, which gives the database connection back). Here one call on
the request's thread does what WSGIHandler does: request_started, the request object (or the 400
answer for an undecodable one), the chain, and, for an ordinary answer, response.close(), so the
connection is back in the pool before the first byte is sent and whatever happens to the client
afterwards. The body is read and the answer sent by the event loop. A streaming answer (the live
tail's server-sent events, CSV reports, files) is sent as Django sends it, while listening for
the client's disconnect, and closed on the request's thread when it ends, disconnect or not.

Reused threads. Each request's synchronous work runs on one thread of its own (its database
connection lives there), as under Django's handler. But Django enters a fresh asgiref
ThreadSensitiveContext per request, which starts a new thread for it and another to join that one
at the end: under load, Thread.start and the join were the largest costs of the whole worker
(py-spy --gil, 16 clients: 40% and 28% of the samples holding the GIL). Here a request takes an
idle single-thread executor (asgiref's ThreadSensitiveContext(executor=...), which leaves it
running at the exit) and gives it back when it is done, so threads are started only when more
requests run at once than ever before.

Measured (2026-11-27, the shared 2-core machine at load 1-2.5, sequential requests, CPU per
request; issue 11): driving project.asgi in process (medians of 10 interleaved runs), Django's
WSGIHandler / this handler before / now: a 404 0.56 / 3.37 / 1.35 ms, GET /api/v1/accounts/<id>/
6.1 / 9.4 / 7.9 ms, POST /api/v1/transfers/ 16.9 / 19.7 / 18.3 ms. Through bin/web (uvicorn, one
worker, uvloop and httptools; the worker's CPU from /proc, medians of 3 runs of 1,000 requests),
before / now: a 404 2.98 / 1.50 ms, the account 8.8 / 6.4 ms, a transfer 19.3 / 16.0 ms.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

from asgiref.sync import ThreadSensitiveContext, sync_to_async
from django.core import signals
from django.core.exceptions import RequestAborted
from django.core.handlers import base
from django.core.handlers.asgi import ASGIHandler, get_script_prefix
from django.http import FileResponse, HttpResponseBase
from django.urls import set_script_prefix

# Idle request threads kept per worker process; a burst above this starts (and later stops) more.
IDLE_THREADS_MAX = 64


class _StreamSent(Exception):
    """Ends the task group that sends a streaming answer once it has been sent."""


class SyncChainASGIHandler(ASGIHandler):
    def __init__(self) -> None:
        base.BaseHandler.__init__(self)
        self.load_middleware(is_async=False)
        # Touched only from the event loop's thread: no lock needed.
        self._idle_executors: list[ThreadPoolExecutor] = []
        # thread_sensitive: the request's own thread (the executor leased in __call__), where its
        # database connection lives and is given back at the end. Built once: building it per
        # request (inspect's coroutine checks, update_wrapper) cost about 0.07 ms (pyinstrument).
        self._respond_on_request_thread = sync_to_async(self._respond, thread_sensitive=True)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            raise ValueError(f"Django can only handle ASGI/HTTP connections, not {scope['type']}.")
        executor = (
            self._idle_executors.pop()
            if self._idle_executors
            else ThreadPoolExecutor(max_workers=1, thread_name_prefix="flux-request")
        )
        reusable = False
        try:
            async with ThreadSensitiveContext(executor=executor):
                reusable = await self.handle(scope, receive, send)
        finally:
            # A thread that may still be busy (a request cancelled while its view runs, a stream
            # whose last call to the thread was cancelled by the disconnect) is not lent again:
            # the next request would wait behind that work. It ends once the work is done.
            if reusable and len(self._idle_executors) < IDLE_THREADS_MAX:
                self._idle_executors.append(executor)
            else:
                executor.shutdown(wait=False)

    async def handle(self, scope, receive, send) -> bool:
        """Answer one request; True when the request's thread is idle again (reusable)."""
        try:
            body_file = await self.read_body(receive)
        except RequestAborted:
            return True
        response = await self._respond_on_request_thread(scope, body_file)
        if not response.streaming:
            await self.send_response(response, send)
            return True
        try:
            await self._send_streaming(response, receive, send)
        finally:
            # Closing fires request_finished on the request's thread: its connection goes back.
            await sync_to_async(response.close, thread_sensitive=True)()
            body_file.close()
        return False

    def _respond(self, scope, body_file) -> HttpResponseBase:
        """On the request's thread: what WSGIHandler.__call__ does, up to the bytes. An ordinary
        answer comes back closed (request_finished sent); a streaming one open."""
        try:
            set_script_prefix(get_script_prefix(scope))
            signals.request_started.send(sender=self.__class__, scope=scope)
            request, error_response = self.create_request(scope, body_file)
            if request is None:
                body_file.close()
                error_response.close()
                return error_response
            response = self.get_response(request)
        except BaseException:
            # No answer will be closed: the connection must go back all the same.
            body_file.close()
            signals.request_finished.send(sender=self.__class__)
            raise
        # As Django's run_get_response: the response knows its handler, and a file is sent in
        # the server's chunk size (the ASGI server does the low-level chunking).
        response._handler_class = self.__class__
        if isinstance(response, FileResponse):
            response.block_size = self.chunk_size
        if not response.streaming:
            response.close()
        return response

    async def _send_streaming(self, response, receive, send) -> None:
        """Django's handle(): send while listening for the client's disconnect, which cancels
        the sending (and closes the content's iterator: the live tail's NATS subscription)."""
        try:
            try:
                async with asyncio.TaskGroup() as tasks:
                    tasks.create_task(self.listen_for_disconnect(receive))
                    await self.send_response(response, send)
                    raise _StreamSent
            except* (_StreamSent, RequestAborted):
                pass
        except BaseExceptionGroup as group:
            if len(group.exceptions) == 1:
                raise group.exceptions[0]
            raise
