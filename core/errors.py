"""The one application error type. Services raise it; the API and pages turn it into
{"error": {"code", "message", "fields"}} with the status its code implies."""

from __future__ import annotations

from django.http import JsonResponse
from django.utils.translation import gettext

# Each stable error code and the HTTP status it maps to (DESIGN.md, "The REST API v1").
STATUS_BY_CODE: dict[str, int] = {
    "validation_error": 400,
    "idempotency_key_missing": 400,
    "not_authenticated": 401,
    # Staff with two-factor sign-in required (FLUX_REQUIRE_2FA): POST auth/token/ without an `otp`
    # (or before enrolling a device on the pages), or with a wrong one.
    "otp_required": 401,
    "otp_invalid": 401,
    "permission_denied": 403,
    # An agent deciding a pending transaction above FLUX_AGENT_APPROVAL_LIMIT (a supervisor's call).
    "approval_limit_exceeded": 403,
    "not_found": 404,
    "method_not_allowed": 405,
    # A body over FLUX_API_MAX_BODY_BYTES (core/middleware.py), refused before any view reads it.
    "request_too_large": 413,
    "unsupported_media_type": 415,
    # State conflicts.
    "account_frozen": 409,
    "account_closed": 409,
    "account_not_frozen": 409,
    "account_not_empty": 409,
    "not_pending": 409,
    "not_posted": 409,
    "already_reversed": 409,
    "not_reversible": 409,
    # A member of staff enrolling two-factor sign-in a second time (identity/two_factor.py).
    "already_enrolled": 409,
    # Refused business rules.
    "insufficient_funds": 422,
    "same_account": 422,
    "currency_mismatch": 422,
    "invalid_iban": 422,
    "unknown_account": 422,
    "idempotency_key_reused": 422,
    # POST transfers/batch/ with `atomic: true` and at least one item refused: nothing applied;
    # `error.items` lists each refused item's index, code and message.
    "batch_refused": 422,
    "throttled": 429,
    # Too many failed sign-ins for one username (django-axes): refused for FLUX_LOCKOUT_MINUTES, even
    # with the right password. 429 rather than 403: it is about the attempts, and it passes.
    "locked_out": 429,
    # Saturated: no database connection within the pool's timeout (core/db/pool.py). Sent with
    # Retry-After; nothing was applied.
    "service_unavailable": 503,
}


class ApplicationError(Exception):
    """A refusal with a stable `code`, a human `message` and, for validation, per-field messages."""

    def __init__(self, code: str, message: str, *, fields: dict[str, list[str]] | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.fields = fields or {}

    @property
    def status(self) -> int:
        return STATUS_BY_CODE.get(self.code, 400)

    def as_body(self) -> dict:
        body: dict = {"code": self.code, "message": self.message}
        if self.fields:
            body["fields"] = self.fields
        return {"error": body}

    def __repr__(self) -> str:
        return f"ApplicationError({self.code!r}, {self.message!r})"


class NotFound(ApplicationError):
    def __init__(self, message: str = "Not found."):
        super().__init__("not_found", message)


class ValidationFailed(ApplicationError):
    def __init__(self, fields: dict[str, list[str]], message: str = "The request is not valid."):
        super().__init__("validation_error", message, fields=fields)


class BatchRefused(ApplicationError):
    """An all-or-nothing batch with refused items: its body carries `items`, one per refused item
    (its index in the batch, its code and message), so the caller can fix them all at once."""

    def __init__(self, refused: list[tuple[int, ApplicationError]]):
        super().__init__(
            "batch_refused",
            gettext("%(count)d of the batch's transfers were refused; none was applied.") % {"count": len(refused)},
        )
        self.items = [{"index": index, "code": error.code, "message": error.message} for index, error in refused]

    def as_body(self) -> dict:
        body = super().as_body()
        body["error"]["items"] = self.items
        return body


def error_response(code: str, message: str, *, status: int | None = None, fields: dict[str, list[str]] | None = None,
                   headers: dict[str, str] | None = None) -> JsonResponse:
    """The API's error shape as a JSON answer, for what answers outside DRF's views (middleware,
    error handlers, the pages' JSON endpoints): {"error": {"code", "message", "fields"?}}, with
    the status its code implies unless `status` says otherwise."""
    error = ApplicationError(code, message, fields=fields)
    return JsonResponse(error.as_body(), status=status or error.status, headers=headers)
