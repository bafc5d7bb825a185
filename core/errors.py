"""The one application error type. Services raise it; the API and pages turn it into
{"error": {"code", "message", "fields"}} with the status its code implies.

ErrorCode is the one list of the stable codes (the API's contract, DESIGN.md "The REST API v1"):
each with its HTTP status and its sentence for a person (translated). A service's own message
may say more (an IBAN, an amount); the pages say the code's sentence where they show a refusal
next to a field (core.forms.add_refusal)."""

from __future__ import annotations

from enum import StrEnum

from django.http import JsonResponse
from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _


class ErrorCode(StrEnum):
    """A stable error code (its value, as the API sends it), its HTTP `status` and its `message`
    for a person. ErrorCode("no_such_code") raises ValueError: an unknown code never answers."""

    status: int
    message: Promise

    def __new__(cls, code: str, status: int, message: Promise) -> ErrorCode:
        member = str.__new__(cls, code)
        member._value_ = code
        member.status = status
        member.message = message
        return member

    VALIDATION_ERROR = "validation_error", 400, _("Some of the details are not valid: correct them and try again.")
    IDEMPOTENCY_KEY_MISSING = "idempotency_key_missing", 400, _(
        "Send this operation with a unique key (Idempotency-Key), so that it is done once.")
    NOT_AUTHENTICATED = "not_authenticated", 401, _("Sign in first.")
    # Staff with two-factor sign-in required (FLUX_REQUIRE_2FA): POST auth/token/ without an `otp`
    # (or before enrolling a device on the pages), or with a wrong one.
    OTP_REQUIRED = "otp_required", 401, _("Give your two-factor code on the sign-in page first.")
    OTP_INVALID = "otp_invalid", 401, _("Wrong code: type the 6 digits your app shows now.")
    PERMISSION_DENIED = "permission_denied", 403, _("You are not allowed to do this.")
    # An agent deciding a pending transaction above FLUX_AGENT_APPROVAL_LIMIT (a supervisor's call).
    APPROVAL_LIMIT_EXCEEDED = "approval_limit_exceeded", 403, _(
        "This amount is above your approval limit: a supervisor decides it.")
    NOT_FOUND = "not_found", 404, _("This could not be found.")
    METHOD_NOT_ALLOWED = "method_not_allowed", 405, _("This cannot be done here.")
    NOT_ACCEPTABLE = "not_acceptable", 406, _("This answer is not available in the format asked for.")
    # A body over FLUX_API_MAX_BODY_BYTES (core/middleware.py), refused before any view reads it.
    REQUEST_TOO_LARGE = "request_too_large", 413, _("The request is too large; nothing was applied.")
    UNSUPPORTED_MEDIA_TYPE = "unsupported_media_type", 415, _("This kind of content is not accepted here.")
    # State conflicts.
    ACCOUNT_FROZEN = "account_frozen", 409, _("One of the accounts is frozen: no money can go in or out of it.")
    ACCOUNT_CLOSED = "account_closed", 409, _("One of the accounts is closed.")
    ACCOUNT_NOT_FROZEN = "account_not_frozen", 409, _("The account is not frozen.")
    ACCOUNT_NOT_EMPTY = "account_not_empty", 409, _(
        "Only an account with a zero balance and nothing pending can be closed.")
    NOT_PENDING = "not_pending", 409, _("This transaction is no longer waiting for a decision.")
    NOT_POSTED = "not_posted", 409, _("Only a posted transaction can be reversed.")
    ALREADY_REVERSED = "already_reversed", 409, _("This transaction has already been reversed.")
    NOT_REVERSIBLE = "not_reversible", 409, _("A reversal cannot itself be reversed.")
    # A suspense item already assigned or sent back (banking.clearing.suspense), or waiting for the
    # approval of its assignment or return.
    NOT_OPEN = "not_open", 409, _("This item is no longer waiting in suspense: it was assigned or sent back.")
    # A member of staff enrolling two-factor sign-in a second time (identity/two_factor.py).
    ALREADY_ENROLLED = "already_enrolled", 409, _("Two-factor sign-in is already set up.")
    # Refused business rules.
    INSUFFICIENT_FUNDS = "insufficient_funds", 422, _("There is not enough money available on this account.")
    SAME_ACCOUNT = "same_account", 422, _("The money cannot go to the account it comes from.")
    CURRENCY_MISMATCH = "currency_mismatch", 422, _("The two accounts are in different currencies.")
    INVALID_IBAN = "invalid_iban", 422, _("This is not a valid IBAN: check it against the one you were given.")
    UNKNOWN_ACCOUNT = "unknown_account", 422, _("No open Flux account has this IBAN.")
    IDEMPOTENCY_KEY_REUSED = "idempotency_key_reused", 422, _(
        "This form was already used for another operation. Check the details and confirm again.")
    # POST transfers/batch/ with `atomic: true` and at least one item refused: nothing applied;
    # `error.items` lists each refused item's index, code and message.
    BATCH_REFUSED = "batch_refused", 422, _("Some of the batch's transfers were refused; none was applied.")
    # POST clearing/runs/ when no posted transfer to another bank waits to be sent (banking/clearing/runs.py).
    NOTHING_TO_CLEAR = "nothing_to_clear", 422, _("No transfer to another bank is waiting to be sent.")
    THROTTLED = "throttled", 429, _("Too many requests: wait a moment, then try again.")
    # Too many failed sign-ins for one username (django-axes): refused for FLUX_LOCKOUT_MINUTES, even
    # with the right password. 429 rather than 403: it is about the attempts, and it passes.
    LOCKED_OUT = "locked_out", 429, _("Too many failed sign-ins: wait a while before trying again.")
    # Saturated: no database connection within the pool's timeout (core/db/pool.py). Sent with
    # Retry-After; nothing was applied.
    SERVICE_UNAVAILABLE = "service_unavailable", 503, _(
        "Flux is too busy to take this request right now; nothing was applied. Try again shortly.")
    # What nothing else caught (core/api/views.py, handler500): never raised as a refusal.
    SERVER_ERROR = "server_error", 500, _("Something went wrong on our side; nothing was applied.")
    # An API exception no code above covers (DRF's APIException itself, or a library's subclass),
    # answered with that exception's own status (core/api/exceptions.py).
    ERROR = "error", 500, _("Something went wrong on our side; nothing was applied.")


class ApplicationError(Exception):
    """A refusal with a stable `code` (an ErrorCode: an unknown one raises ValueError here), a
    `message` (the code's sentence for a person unless the service says more) and, for validation,
    per-field messages."""

    def __init__(self, code: ErrorCode | str, message: str | None = None, *,
                 fields: dict[str, list[str]] | None = None):
        self.code = ErrorCode(code)
        self.message = str(self.code.message) if message is None else message
        super().__init__(self.message)
        self.fields = fields or {}

    @property
    def status(self) -> int:
        return self.code.status

    def as_body(self) -> dict:
        body: dict = {"code": self.code.value, "message": self.message}
        if self.fields:
            body["fields"] = self.fields
        return {"error": body}

    def __repr__(self) -> str:
        return f"ApplicationError({self.code.value!r}, {self.message!r})"


class NotFound(ApplicationError):
    def __init__(self, message: str = "Not found."):
        super().__init__(ErrorCode.NOT_FOUND, message)


class ValidationFailed(ApplicationError):
    def __init__(self, fields: dict[str, list[str]], message: str = "The request is not valid."):
        super().__init__(ErrorCode.VALIDATION_ERROR, message, fields=fields)


class BatchRefused(ApplicationError):
    """An all-or-nothing batch with refused items: its body carries `items`, one per refused item
    (its index in the batch, its code and message), so the caller can fix them all at once."""

    def __init__(self, refused: list[tuple[int, ApplicationError]]):
        super().__init__(
            ErrorCode.BATCH_REFUSED,
            gettext("%(count)d of the batch's transfers were refused; none was applied.") % {"count": len(refused)},
        )
        self.items = [{"index": index, "code": error.code.value, "message": error.message} for index, error in refused]

    def as_body(self) -> dict:
        body = super().as_body()
        body["error"]["items"] = self.items
        return body


def error_response(code: ErrorCode | str, message: str, *, status: int | None = None,
                   fields: dict[str, list[str]] | None = None, headers: dict[str, str] | None = None) -> JsonResponse:
    """The API's error shape as a JSON answer, for what answers outside DRF's views (middleware,
    error handlers, the pages' JSON endpoints): {"error": {"code", "message", "fields"?}}, with
    the status its code implies unless `status` says otherwise."""
    error = ApplicationError(code, message, fields=fields)
    return JsonResponse(error.as_body(), status=status or error.status, headers=headers)
