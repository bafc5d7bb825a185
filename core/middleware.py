"""HTTP hardening that no DRF view can do itself: a body size limit checked before anything reads
the body (an ASGI wrapper in front of Django, and a Django middleware for the API), and a content
policy for JSON answers stricter than the pages' one."""

from __future__ import annotations

import io
import json

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.deprecation import MiddlewareMixin

from core.db.pool import is_pool_exhausted, service_unavailable

API_PREFIX = "/api/"


def _declared_length(request: HttpRequest) -> int | None:
    """The Content-Length the client announced, or None when it sent none (or nonsense, which
    Django itself reads as an empty body)."""
    try:
        return int(request.META["CONTENT_LENGTH"])
    except (KeyError, TypeError, ValueError):
        return None


def too_large_body(limit: int) -> dict:
    return {
        "error": {
            "code": "request_too_large",
            "message": f"The request body is larger than {limit} bytes; nothing was applied.",
        }
    }


def request_too_large(limit: int) -> JsonResponse:
    return JsonResponse(too_large_body(limit), status=413)


def body_limit(path: str) -> int:
    """The largest body a request to `path` may carry."""
    if path in settings.FLUX_API_UPLOAD_PATHS:
        return settings.FLUX_API_MAX_UPLOAD_BYTES
    if path.startswith(API_PREFIX):
        return settings.FLUX_API_MAX_BODY_BYTES
    return settings.FLUX_MAX_BODY_BYTES


class BodySizeLimitASGI:
    """The body limit in front of Django under ASGI (uvicorn, gunicorn's uvicorn worker).

    Django's ASGI handler reads the whole body (spooled to disk past 2.5 MB) before any middleware
    runs, so ApiBodySizeLimitMiddleware alone would answer 413 only after a gigabyte had been
    received. This wrapper answers first: from the announced Content-Length without reading a
    byte, or, for a body without one (chunked), as soon as the bytes received pass the limit.
    The API answers in its error shape; pages with plain text. A body within the limit reaches
    Django as sent."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        limit = body_limit(scope["path"])
        headers = dict(scope.get("headers") or [])
        try:
            declared = int(headers[b"content-length"])
        except (KeyError, ValueError):
            declared = None
        if declared is not None:
            if declared > limit:
                return await self._refuse(scope, send, limit)
            return await self.app(scope, receive, send)
        received: list[dict] = []
        size = 0
        while True:
            message = await receive()
            received.append(message)
            if message["type"] != "http.request":
                break
            size += len(message.get("body", b""))
            if size > limit:
                return await self._refuse(scope, send, limit)
            if not message.get("more_body", False):
                break

        async def replay() -> dict:
            return received.pop(0) if received else await receive()

        return await self.app(scope, replay, send)

    @staticmethod
    async def _refuse(scope, send, limit: int) -> None:
        if scope["path"].startswith(API_PREFIX):
            body, content_type = json.dumps(too_large_body(limit)).encode(), b"application/json"
        else:
            body, content_type = b"Request body too large.", b"text/plain; charset=utf-8"
        await send({"type": "http.response.start", "status": 413, "headers": [
            (b"content-type", content_type), (b"content-length", str(len(body)).encode()),
            (b"connection", b"close"),
        ]})
        await send({"type": "http.response.body", "body": body})


class ApiBodySizeLimitMiddleware(MiddlewareMixin):
    """Refuses an API request whose body is over FLUX_API_MAX_BODY_BYTES (FLUX_API_MAX_UPLOAD_BYTES
    on the upload paths, FLUX_API_UPLOAD_PATHS: the CSV import) with 413 `request_too_large`, in the
    API's error shape.

    The announced Content-Length decides, so an oversized body is refused without being read or
    parsed. A body sent without a length (chunked) is read up to one byte past the limit, no more;
    within it, the view reads it as usual. Pages are left to Django's DATA_UPLOAD_MAX_MEMORY_SIZE
    and their own limits (the bulk CSV import takes files of several megabytes).

    JSON answers of the API also get FLUX_API_CSP instead of the pages' policy: a JSON document
    needs to load nothing (Django's CSP middleware, earlier in MIDDLEWARE, writes the header)."""

    def process_request(self, request: HttpRequest) -> HttpResponse | None:
        if not request.path.startswith(API_PREFIX):
            return None
        limit = body_limit(request.path)
        declared = _declared_length(request)
        if declared is not None:
            return request_too_large(limit) if declared > limit else None
        if request.method in ("GET", "HEAD", "OPTIONS") or request.META.get("HTTP_TRANSFER_ENCODING") is None:
            return None
        body = request.read(limit + 1)
        if len(body) > limit:
            return request_too_large(limit)
        # The view reads what was read here: request.body, and DRF's stream through it (DRF reads
        # a body only when it has a length).
        request._body = body
        request._stream = io.BytesIO(body)
        request.META["CONTENT_LENGTH"] = str(len(body))
        return None

    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        content_type = response.get("Content-Type", "").split(";")[0]
        is_json = content_type == "application/json" or content_type.endswith("+json")
        if request.path.startswith(API_PREFIX) and is_json:
            response._csp_config = settings.FLUX_API_CSP
        return response


class ServiceUnavailableMiddleware(MiddlewareMixin):
    """A page or API view that got no database connection within the pool's timeout answers 503
    with Retry-After (core/db/pool.py), in development (DEBUG) too, instead of a 500. DRF views
    are answered by the API's exception handler first; this catches what it re-raises and every
    page, and core.api.views.server_error what a middleware raises."""

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        return service_unavailable(request) if is_pool_exhausted(exception) else None
