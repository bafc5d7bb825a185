"""Saturation: no database connection came from the pool in time (FLUX_DB_POOL_TIMEOUT).

Each process holds at most FLUX_DB_POOL_MAX PostgreSQL connections (project/settings/base.py,
"Database"). When every one is busy for longer than the pool's timeout, psycopg_pool raises
PoolTimeout, which Django's database layer wraps in django.db.utils.OperationalError (the pool's
error as its __cause__). It is raised when the request first touches the database, before
anything is written, so the request applied nothing: the answer is 503 service_unavailable with
Retry-After (DESIGN.md, "Status codes"), never a 500. One predicate and one response serve the
API's exception handler, the pages' middleware and the last-resort 500 handler."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.utils.translation import gettext as _

from core.errors import error_response
from core.metrics import POOL_TIMEOUTS

try:
    from psycopg_pool import PoolTimeout
except ImportError:  # SQLite-only installs have no pool, so never this error
    PoolTimeout = None

# Seconds a refused client is asked to wait: about one pool timeout's worth of queued work drains.
RETRY_AFTER_SECONDS = 2


def is_pool_exhausted(exc: BaseException | None) -> bool:
    """True when `exc` is (or was caused by) the pool giving no connection within its timeout."""
    seen = 0
    while exc is not None and PoolTimeout is not None and seen < 5:
        if isinstance(exc, PoolTimeout):
            return True
        exc, seen = exc.__cause__ or exc.__context__, seen + 1
    return False


def service_unavailable_message() -> str:
    return _("Flux is too busy to take this request right now; nothing was applied. Try again shortly.")


def service_unavailable(request: HttpRequest) -> HttpResponse:
    """503 with Retry-After: the API's error shape under /api/, a plain page elsewhere. Renders
    without touching the database (there is no connection to be had)."""
    POOL_TIMEOUTS.inc()
    headers = {"Retry-After": str(RETRY_AFTER_SECONDS), "Cache-Control": "no-store"}
    if request.path.startswith("/api/"):
        return error_response("service_unavailable", service_unavailable_message(), headers=headers)
    page = render_to_string("503.html", {"message": service_unavailable_message()})
    return HttpResponse(page, status=503, headers=headers)
