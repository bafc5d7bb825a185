"""The request id: one name for everything a request causes (its answer's X-Request-ID, the audit
events of the changes it made, their NATS messages, every log line written while it runs).

The caller's own X-Request-ID is kept when it is 1-64 characters of [A-Za-z0-9._-] (so a client
or a proxy can follow its request through Flux); anything else gets a new id. The id lives in a
context variable for the request's duration: each request runs in a context of its own (Django
copies it per request), and processes that are not web servers (the scheduler) set one per job."""

from __future__ import annotations

import contextlib
import logging
import re
import uuid
from collections.abc import Iterator
from contextvars import ContextVar

from django.core.signals import request_finished
from django.dispatch import receiver

HEADER = "X-Request-ID"
META_KEY = "HTTP_X_REQUEST_ID"
SANE = re.compile(r"\A[A-Za-z0-9._-]{1,64}\Z")

_current: ContextVar[str] = ContextVar("flux_request_id", default="")


def new_request_id() -> str:
    return uuid.uuid4().hex


def request_id_from(value: str | None) -> str:
    """The caller's id when it is sane, else a new one."""
    return value if value and SANE.match(value) else new_request_id()


def current_request_id() -> str:
    """The id of the request (or job) running now; "" outside one."""
    return _current.get()


def set_request_id(request_id: str) -> None:
    """The request now running is `request_id`, until it is finished (request_finished, when its
    answer is closed: after Django logs a 4xx or 5xx answer, so that line carries it too)."""
    _current.set(request_id)


@receiver(request_finished, dispatch_uid="flux.request_id.clear")
def clear_request_id(**kwargs) -> None:
    _current.set("")


@contextlib.contextmanager
def bound_request_id(request_id: str) -> Iterator[str]:
    """Run a block as the request (or job) `request_id`."""
    token = _current.set(request_id)
    try:
        yield request_id
    finally:
        _current.reset(token)


class RequestIdLogFilter(logging.Filter):
    """Puts `request_id` on every log record ("-" outside a request), for the formatters."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "request_id", None):
            record.request_id = _current.get() or "-"
        return True
