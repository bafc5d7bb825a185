"""What every request leaves for the operator: its id (X-Request-ID, core/request_id.py) and its
figures (core/metrics.py). First in the middleware chain, so every answer carries the id and is
counted, refusals by later middleware included."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from core import metrics
from core.request_id import HEADER, META_KEY, clear_request_id, request_id_from, set_request_id

UNMATCHED = "unmatched"
# Any other method is counted as "other": a client must not mint series.
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

access_log = logging.getLogger("flux.access")


def route_of(request: HttpRequest) -> str:
    """The URL pattern that answered (bounded: never the path itself, which holds ids)."""
    match = getattr(request, "resolver_match", None)
    return match.route if match is not None and match.route else UNMATCHED


class RequestObservabilityMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = request_id_from(request.META.get(META_KEY))
        request.request_id = request_id
        started = time.perf_counter()
        set_request_id(request_id)
        try:
            response = self.get_response(request)
        except BaseException:
            clear_request_id()  # no answer will be closed: request_finished will not clear it
            raise
        if response.streaming:
            # Closed only once its content is consumed (maybe never, by a test): cleared now, so
            # the thread's next work is not taken for this request.
            clear_request_id()
        elapsed = time.perf_counter() - started
        response[HEADER] = request_id
        route = route_of(request)
        method = request.method if request.method in KNOWN_METHODS else "other"
        metrics.HTTP_REQUESTS.labels(method, route, str(response.status_code)).inc()
        metrics.HTTP_DURATION.labels(method, route).observe(elapsed)
        metrics.note_request(elapsed, response.status_code)
        metrics.sample_pool()
        if settings.FLUX_ACCESS_LOG:
            access_log.info(
                "%s %s %s %.1f ms", request.method, request.path, response.status_code, elapsed * 1000,
                extra={"method": request.method, "path": request.path, "status": response.status_code,
                       "duration_ms": round(elapsed * 1000, 1)},
            )
        return response

