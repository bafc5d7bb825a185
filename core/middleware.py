"""HTTP hardening that no DRF view can do itself: a body size limit checked before anything reads
the body (an ASGI wrapper in front of Django, and a Django middleware for the API), a content
policy for JSON answers stricter than the pages' one, `Cache-Control: no-store` on every answer
that carries someone's data, a 400 for NUL characters in the query string, and the API's own 500
answer under DEBUG too."""

from __future__ import annotations

import io
import json

from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.core.exceptions import BadRequest, PermissionDenied, SuspiciousOperation
from django.core.signals import got_request_exception
from django.core.validators import ProhibitNullCharactersValidator
from django.db import DatabaseError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.shortcuts import render
from django.utils.cache import patch_cache_control
from django.utils.deprecation import MiddlewareMixin
from django.utils.log import log_response

from core.api.views import server_error
from core.db.pool import is_pool_exhausted, service_unavailable
from core.errors import ApplicationError, NotFound, error_response
from core.request_id import request_id_from

API_PREFIX = "/api/"


def _declared_length(request: HttpRequest) -> int | None:
    """The Content-Length the client announced, or None when it sent none (or nonsense, which
    Django itself reads as an empty body)."""
    try:
        return int(request.META["CONTENT_LENGTH"])
    except (KeyError, TypeError, ValueError):
        return None


def too_large_message(limit: int) -> str:
    return f"The request body is larger than {limit} bytes; nothing was applied."


def request_too_large(limit: int) -> JsonResponse:
    return error_response("request_too_large", too_large_message(limit))


def body_limit(path: str) -> int:
    """The largest body a request to `path` may carry."""
    if path in settings.FLUX_API_UPLOAD_PATHS:
        return settings.FLUX_API_MAX_UPLOAD_BYTES
    if path in settings.FLUX_API_BATCH_PATHS:
        return settings.FLUX_API_MAX_BATCH_BYTES
    if path in settings.FLUX_API_STATEMENT_PATHS:
        return settings.FLUX_STATEMENT_MAX_BYTES
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
            body = json.dumps(ApplicationError("request_too_large", too_large_message(limit)).as_body()).encode()
            content_type = b"application/json"
        else:
            body, content_type = b"Request body too large.", b"text/plain; charset=utf-8"
        # Answered before Django: the request id is set here (the caller's when sane).
        given = dict(scope.get("headers") or []).get(b"x-request-id", b"").decode("latin-1")
        await send({"type": "http.response.start", "status": 413, "headers": [
            (b"content-type", content_type), (b"content-length", str(len(body)).encode()),
            (b"connection", b"close"), (b"cache-control", b"no-store"),
            (b"x-request-id", request_id_from(given).encode()),
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


class NoStoreMiddleware(MiddlewareMixin):
    """`Cache-Control: no-store` on every answer under /api/ (errors, 404s and the schema included:
    DESIGN.md, "The REST API v1") and on every answer built for a signed-in session (the customer's
    /app/ pages, the desk, the staff dashboards, PDF receipts and statements), so neither a shared
    cache nor the browser's disk keeps a copy of someone's money.

    "Built for a signed-in session": the request read its session (every page that knows who you
    are does, through request.user) and that session is a signed-in user's. What reads no session
    keeps its caching: static files (WhiteNoise answers them before this runs), the service worker,
    the manifest and the offline shell (the same for everyone, precached by the service worker).
    (Vary: Cookie would not tell: the CSRF cookie adds it to any page with a form.)

    It sits outside the API's body limit, so a 413 carries it too. Other directives (never_cache's,
    the live tail's no-cache) are kept."""

    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        if request.path.startswith(API_PREFIX) or _for_a_signed_in_session(request):
            patch_cache_control(response, no_store=True)
        return response


def _for_a_signed_in_session(request: HttpRequest) -> bool:
    session = getattr(request, "session", None)
    if not getattr(session, "accessed", False):
        return False
    # The session's own record of a signed-in user, not request.user: loading the user is a query,
    # and this also runs on the 503 answered when no database connection came (core/db/pool.py).
    try:
        return SESSION_KEY in session
    except DatabaseError:  # the session itself could not be read: keeping no copy costs nothing
        return True


class NullCharacterMiddleware(MiddlewareMixin):
    """Refuses a request whose query string holds a NUL character (%00, in a name or a value) with
    400 before any view runs: `validation_error` in the API's shape (the field and Django's "Null
    characters are not allowed."), a plain 400 page for the pages.

    PostgreSQL text cannot hold NUL, so a search or filter that carried one to the database failed
    the whole query with a 500 (customers/?q=, the desk search, ...). No real link carries one; one
    check here covers every filter, present and future, of the API and the pages. Bodies are left to
    their fields: Django's and DRF's CharField already refuse NUL (400, or the form's error)."""

    def process_request(self, request: HttpRequest) -> HttpResponse | None:
        names = [name for name, values in request.GET.lists() if "\x00" in name or any("\x00" in v for v in values)]
        if not names:
            return None
        message = str(ProhibitNullCharactersValidator.message)
        if request.path.startswith(API_PREFIX):
            return error_response("validation_error", "The request is not valid.",
                                  fields={name: [message] for name in names})
        return render(request, "errors/bad_request.html", status=400)


# What Django itself answers with a 4xx (404 page, 403, 400): not a crash.
CLIENT_ERRORS = (Http404, PermissionDenied, BadRequest, SuspiciousOperation, MultiPartParserError)


class ApiServerErrorMiddleware(MiddlewareMixin):
    """An exception that escapes a view under /api/ is answered with the API's 500,
    {"error": {"code": "server_error", ...}}, whatever DEBUG says.

    Without DEBUG, handler500 (core.api.views.server_error) already does; with DEBUG (`make run`)
    Django would answer its technical page instead, with the traceback, local variables and
    settings, to whoever sent the request. The exception is still logged as Django logs it
    (django.request, ERROR, with the traceback) and still signalled (got_request_exception)."""

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not request.path.startswith(API_PREFIX) or isinstance(exception, CLIENT_ERRORS):
            return None
        got_request_exception.send(sender=self.__class__, request=request)
        response = server_error(request)
        log_response("%s: %s", response.reason_phrase, request.path, response=response, request=request,
                     exception=exception)
        return response


class ServiceUnavailableMiddleware(MiddlewareMixin):
    """A page or API view that got no database connection within the pool's timeout answers 503
    with Retry-After (core/db/pool.py), in development (DEBUG) too, instead of a 500. DRF views
    are answered by the API's exception handler first; this catches what it re-raises and every
    page, and core.api.views.server_error what a middleware raises."""

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        return service_unavailable(request) if is_pool_exhausted(exception) else None


class NotFoundPageMiddleware(MiddlewareMixin):
    """A page view lets the services' NotFound (an unknown id, a malformed one, another customer's
    account) go, and the visitor gets the 404 page, as with Http404: one place instead of a
    try/except in every view. The API answers NotFound itself (its exception handler)."""

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, NotFound) and not request.path.startswith(API_PREFIX):
            raise Http404(exception.message) from exception
        return None
