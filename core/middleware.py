"""HTTP hardening of the API that no DRF view can do itself: a body size limit checked before any
view parses the body, and a content policy for JSON answers stricter than the pages' one."""

from __future__ import annotations

import io

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.deprecation import MiddlewareMixin

API_PREFIX = "/api/"


def _declared_length(request: HttpRequest) -> int | None:
    """The Content-Length the client announced, or None when it sent none (or nonsense, which
    Django itself reads as an empty body)."""
    try:
        return int(request.META["CONTENT_LENGTH"])
    except (KeyError, TypeError, ValueError):
        return None


def request_too_large(limit: int) -> JsonResponse:
    return JsonResponse(
        {
            "error": {
                "code": "request_too_large",
                "message": f"The request body is larger than {limit} bytes; nothing was applied.",
            }
        },
        status=413,
    )


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
        limit = settings.FLUX_API_MAX_BODY_BYTES
        if request.path in settings.FLUX_API_UPLOAD_PATHS:
            limit = settings.FLUX_API_MAX_UPLOAD_BYTES
        declared = _declared_length(request)
        if declared is not None:
            return request_too_large(limit) if declared > limit else None
        if request.method in ("GET", "HEAD", "OPTIONS") or request.META.get("HTTP_TRANSFER_ENCODING") is None:
            return None
        body = request.read(limit + 1)
        if len(body) > limit:
            return request_too_large(limit)
        # The view reads what was read here: request.body, and DRF's stream through it.
        request._body = body
        request._stream = io.BytesIO(body)
        return None

    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        if request.path.startswith(API_PREFIX) and response.get("Content-Type", "").startswith("application/json"):
            response._csp_config = settings.FLUX_API_CSP
        return response
