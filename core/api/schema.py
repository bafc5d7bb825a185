"""Shared pieces of the OpenAPI schema (drf-spectacular): the error envelope, each view's documented
error responses with examples, and the idempotency headers.

Annotating a view:

    from core.api.schema import IDEMPOTENCY_KEY, errors, replayed

    @extend_schema(
        request=TransferCreateSerializer,
        responses={201: TransactionSerializer, **errors(400, 404, "insufficient_funds", "account_frozen")},
        parameters=[IDEMPOTENCY_KEY, replayed(201)],
    )

`errors()` takes HTTP statuses (a generic example each) and error codes from core/errors.py (an
example each, under the status the code maps to). What every operation can answer, 401
not_authenticated, 429 throttled (with Retry-After), 503 service_unavailable (with Retry-After) and,
with a body, 413 request_too_large, is added to every operation by `add_common_errors`, a
postprocessing hook (SPECTACULAR_SETTINGS).
"""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse
from rest_framework import serializers

from core.api.idempotency import HEADER, REPLAYED_HEADER
from core.errors import ErrorCode
from core.idempotency import STORED_REFUSAL_STATUSES

ERROR_COMPONENT = "ErrorResponse"


class ErrorSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="A stable, machine-readable code, e.g. `insufficient_funds`.")
    message = serializers.CharField(help_text="A human-readable explanation (may change; do not parse it).")
    fields = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        required=False,
        help_text="Only for `validation_error`: the messages per request field (or header).",
    )
    items = serializers.ListField(
        child=serializers.DictField(),
        required=False,
        help_text="Only for `batch_refused`: each refused item's `index` in the batch, `code` and `message`.",
    )


class ErrorResponseSerializer(serializers.Serializer):
    """Every error: `{"error": {"code", "message", "fields"?}}`."""

    error = ErrorSerializer()


# One realistic example per code: (message, fields).
ERROR_EXAMPLES: dict[str, tuple[str, dict | None]] = {
    "validation_error": ("The request is not valid.", {"amount": ["Use at most two decimals."]}),
    "idempotency_key_missing": (
        f"Send an {HEADER} header (a unique value, e.g. a UUID) with this request.", None),
    "not_authenticated": ("Authentication credentials were not provided.", None),
    "otp_required": ("Enter the code from your authenticator app.", None),
    "otp_invalid": ("That code is not valid.", None),
    "permission_denied": ("You do not have permission to perform this action.", None),
    "approval_limit_exceeded": ("This amount needs a supervisor's approval.", None),
    "not_found": ("Not found.", None),
    "method_not_allowed": ('Method "PUT" not allowed.', None),
    "unsupported_media_type": ('Unsupported media type "text/plain" in request.', None),
    "account_frozen": ("The account NL20FLUX0000000017 is frozen.", None),
    "account_closed": ("The account NL20FLUX0000000017 is closed.", None),
    "account_not_frozen": ("The account is not frozen.", None),
    "account_not_empty": ("Only an account with a zero balance can be closed.", None),
    "not_pending": ("This transaction is not pending.", None),
    "not_posted": ("Only a posted transaction can be reversed.", None),
    "already_reversed": ("This transaction has already been reversed.", None),
    "not_reversible": ("A reversal cannot itself be reversed.", None),
    "not_open": ("Suspense item #12 is no longer open: it was assigned by transaction #88 (posted).", None),
    "insufficient_funds": ("Insufficient funds: 80.00 EUR available.", None),
    "same_account": ("The source and destination are the same account.", None),
    "currency_mismatch": ("Both accounts must hold the same currency.", None),
    "invalid_iban": ("This IBAN is not valid (check digits).", None),
    "unknown_account": ("No open Flux account has this IBAN.", None),
    "batch_refused": ("1 of the batch's transfers were refused; none was applied.", None),
    "nothing_to_clear": ("No transfer to another bank in EUR is waiting to be sent.", None),
    "idempotency_key_reused": (
        f"This {HEADER} was already used for a different request. Use a new key for a new operation.", None),
    "throttled": ("Request was throttled. Expected available in 12 seconds.", None),
    "locked_out": ("Too many failed sign-ins. Try again in 15 minutes.", None),
    "request_too_large": ("The request body is too large.", None),
    "service_unavailable": (
        "Flux is too busy to take this request right now; nothing was applied. Try again shortly.", None),
}

# The code whose example documents a bare status in `errors(...)`.
GENERIC_CODE_BY_STATUS = {
    400: "validation_error", 401: "not_authenticated", 403: "permission_denied", 404: "not_found",
    405: "method_not_allowed", 409: "account_frozen", 413: "request_too_large", 415: "unsupported_media_type",
    422: "insufficient_funds", 429: "throttled", 503: "service_unavailable",
}


def error_body(code: str) -> dict:
    message, fields = ERROR_EXAMPLES[code]
    body: dict = {"code": code, "message": message}
    if fields:
        body["fields"] = fields
    if code == "batch_refused":
        body["items"] = [{"index": 2, "code": "insufficient_funds", "message": ERROR_EXAMPLES["insufficient_funds"][0]}]
    return {"error": body}


def errors(*statuses_or_codes: int | str) -> dict[int, OpenApiResponse]:
    """The `responses` entries for the errors an operation can really return.

    Each argument is an HTTP status (documented with its generic code: 400 validation_error, 404
    not_found, ...) or an error code (documented under its own status, with an example). Several
    codes of one status share one response with one example each:

        errors(400, 404, "insufficient_funds", "same_account")  # {400: ..., 404: ..., 422: ...}
    """
    codes_by_status: dict[int, list[str]] = {}
    for item in statuses_or_codes:
        code = GENERIC_CODE_BY_STATUS[item] if isinstance(item, int) else item
        if code not in ERROR_EXAMPLES:
            raise ValueError(f"No example for error code {code!r}: add it to core/api/schema.py.")
        codes = codes_by_status.setdefault(ErrorCode(code).status, [])
        if code not in codes:
            codes.append(code)
    return {
        status: OpenApiResponse(
            response=ErrorResponseSerializer,
            description=", ".join(f"`{code}`" for code in codes),
            examples=[
                OpenApiExample(code, value=error_body(code), response_only=True, status_codes=[str(status)])
                for code in codes
            ],
        )
        for status, codes in sorted(codes_by_status.items())
    }


IDEMPOTENCY_KEY = OpenApiParameter(
    HEADER, OpenApiTypes.STR, OpenApiParameter.HEADER, required=True,
    description="A unique value per operation (e.g. a UUID), at most 255 printable characters. A retry "
    "with the same key and body replays the first response, a refusal included (nothing moves again); the "
    "same key with another body is refused (422 `idempotency_key_reused`); without it, 400 "
    "`idempotency_key_missing`. Only a 400 is not kept. Keys are per user and kept at least 24 hours.",
    examples=[OpenApiExample("A UUID", value="5f0c6a52-3f1e-4c1b-9a53-1d2f4b8e7c90")],
)
OPTIONAL_IDEMPOTENCY_KEY = OpenApiParameter(
    HEADER, OpenApiTypes.STR, OpenApiParameter.HEADER, required=False,
    description="Optional: with it, a retry with the same key and body replays the first response, a "
    "refusal included; the same key with another body is refused (422 `idempotency_key_reused`).",
    examples=[OpenApiExample("A UUID", value="9b1d2e7a-6c44-4f0e-8d3a-2a7c5e1f0b36")],
)


def replayed(*statuses: int) -> OpenApiParameter:
    """The response header that marks a replayed answer (same Idempotency-Key, same body), on each
    of `statuses` that the operation documents."""
    return OpenApiParameter(
        REPLAYED_HEADER, OpenApiTypes.STR, OpenApiParameter.HEADER, enum=["true"], response=list(statuses),
        description="Present (`true`) when this response is the replay of an earlier request with the same "
        "Idempotency-Key and body: its success, or its refusal (a refusal is the answer too).",
    )


def idempotent(status: int, *, required: bool = True) -> list[OpenApiParameter]:
    """The `parameters` of an operation that moves money: the request header and the replay header
    (on its success and on the refusals that are stored and replayed, core/idempotency.py)."""
    return [IDEMPOTENCY_KEY if required else OPTIONAL_IDEMPOTENCY_KEY,
            replayed(status, *sorted(STORED_REFUSAL_STATUSES))]


# --- Postprocessing hook ------------------------------------------------------------------------

RETRY_AFTER = {
    "description": "Seconds to wait before the next request.",
    "schema": {"type": "integer", "minimum": 1},
}


def _response(code: str, description: str, *, headers: dict | None = None) -> dict:
    response: dict = {
        "description": description,
        "content": {
            "application/json": {
                "schema": {"$ref": f"#/components/schemas/{ERROR_COMPONENT}"},
                "examples": {code: {"value": error_body(code)}},
            }
        },
    }
    if headers:
        response["headers"] = headers
    return response


def add_common_errors(result: dict, generator, request, public) -> dict:
    """Document on every operation under /api/v1/ what any of them can answer: 401 (no, expired or
    revoked token; wrong credentials on auth/token/), 429 (rate limits, with Retry-After), 503 (no
    database connection within the pool's timeout, nothing applied, with Retry-After) and, for
    operations with a body, 413 (a body over the size limit). A view's own entry wins."""
    for path, operations in result.get("paths", {}).items():
        if not path.startswith("/api/v1/"):
            continue
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            responses.setdefault("401", _response("not_authenticated", "`not_authenticated`"))
            responses.setdefault("429", _response("throttled", "`throttled`: too many requests"))
            responses["429"].setdefault("headers", {"Retry-After": RETRY_AFTER})
            responses.setdefault("503", _response(
                "service_unavailable", "`service_unavailable`: the server is saturated; nothing was applied"))
            responses["503"].setdefault("headers", {"Retry-After": RETRY_AFTER})
            if "requestBody" in operation:
                responses.setdefault("413", _response("request_too_large", "`request_too_large`"))
            operation["responses"] = dict(sorted(responses.items()))
    return result
