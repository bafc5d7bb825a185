"""One exception handler turns every error into {"error": {"code", "message", "fields"}}."""

from __future__ import annotations

import math

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from rest_framework import exceptions
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import set_rollback

from core.db.pool import RETRY_AFTER_SECONDS, is_pool_exhausted, service_unavailable_message
from core.errors import ApplicationError, ErrorCode

# DRF's exceptions and the code each answers with (its status is the code's).
CODE_BY_EXCEPTION: list[tuple[type[Exception], ErrorCode]] = [
    (exceptions.NotAuthenticated, ErrorCode.NOT_AUTHENTICATED),
    (exceptions.AuthenticationFailed, ErrorCode.NOT_AUTHENTICATED),
    (exceptions.PermissionDenied, ErrorCode.PERMISSION_DENIED),
    (exceptions.NotFound, ErrorCode.NOT_FOUND),
    (exceptions.MethodNotAllowed, ErrorCode.METHOD_NOT_ALLOWED),
    (exceptions.NotAcceptable, ErrorCode.NOT_ACCEPTABLE),
    (exceptions.UnsupportedMediaType, ErrorCode.UNSUPPORTED_MEDIA_TYPE),
    (exceptions.Throttled, ErrorCode.THROTTLED),
    (exceptions.ParseError, ErrorCode.VALIDATION_ERROR),
]


def _flatten(detail) -> list[str]:
    if isinstance(detail, dict):
        return [msg for value in detail.values() for msg in _flatten(value)]
    if isinstance(detail, list):
        return [msg for item in detail for msg in _flatten(item)]
    return [str(detail)]


def _fields(detail) -> dict[str, list[str]]:
    if isinstance(detail, dict):
        return {str(key): _flatten(value) for key, value in detail.items()}
    return {"non_field_errors": _flatten(detail)}


def _message(detail) -> str:
    # simplejwt's token errors carry {"detail", "code", "messages"}: the first says it all.
    if isinstance(detail, dict) and "detail" in detail:
        return str(detail["detail"])
    return " ".join(_flatten(detail))


def _response(code: ErrorCode, message: str, status_code: int | None = None, fields=None, headers=None) -> Response:
    """DRF's answer with the one error body (core.errors.ApplicationError.as_body), with the code's
    status unless `status_code` says otherwise."""
    error = ApplicationError(code, message, fields=fields)
    return Response(error.as_body(), status=status_code or error.status, headers=headers)


def exception_handler(exc: Exception, context: dict) -> Response | None:
    response = _error_response(exc)
    request = context.get("request")
    if response is not None and request is not None:
        # Errors are JSON whatever the endpoint renders otherwise (the schema's YAML, a CSV file).
        request.accepted_renderer = JSONRenderer()
        request.accepted_media_type = JSONRenderer.media_type
    return response


def _error_response(exc: Exception) -> Response | None:
    if isinstance(exc, ApplicationError):
        set_rollback()
        return Response(exc.as_body(), status=exc.status)
    if is_pool_exhausted(exc):
        # Raised at the request's first query, before any write: nothing to roll back or undo.
        return _response(ErrorCode.SERVICE_UNAVAILABLE, service_unavailable_message(),
                         headers={"Retry-After": str(RETRY_AFTER_SECONDS)})
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()

    if isinstance(exc, exceptions.ValidationError):
        set_rollback()
        return _response(ErrorCode.VALIDATION_ERROR, "The request is not valid.", fields=_fields(exc.detail))
    for exc_type, code in CODE_BY_EXCEPTION:
        if isinstance(exc, exc_type):
            set_rollback()
            headers = {}
            if getattr(exc, "auth_header", None):
                headers["WWW-Authenticate"] = exc.auth_header
            if isinstance(exc, exceptions.Throttled) and exc.wait is not None:
                headers["Retry-After"] = str(max(1, math.ceil(exc.wait)))
            message = _message(exc.detail) or code.value
            return _response(code, message, headers=headers)
    if isinstance(exc, exceptions.APIException):
        set_rollback()
        return _response(ErrorCode.ERROR, " ".join(_flatten(exc.detail)), exc.status_code)
    return None
