"""Idempotent execution of money-moving API requests (DESIGN.md, "Idempotency").

The `Idempotency-Key` header and a fingerprint of the request (method, path, body) go to
core/idempotency.py's `run_once`, the one mechanism the pages use too: the key row is inserted
before the operation in the same transaction, a retry with the same key and body replays the
first response, refusals included (a 422 `insufficient_funds` stays that answer, with
`Idempotent-Replayed: true`), and the same key with another body is refused with
idempotency_key_reused. Only 400s (validation_error, idempotency_key_missing), which run nothing,
are not kept: the key may be sent again with a corrected body.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable

from rest_framework.response import Response

from core.errors import ApplicationError, ValidationFailed
from core.idempotency import ReplayedRefusal, run_once

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
MAX_KEY_LENGTH = 255


def _file_digest(upload) -> str:
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    return digest.hexdigest()


def _fingerprint(request) -> str:
    if isinstance(request.data, bytes):  # a file as the body (a camt.053 statement): its own digest
        body = hashlib.sha256(request.data).hexdigest()
    else:
        body = json.dumps(request.data, sort_keys=True, separators=(",", ":"), default=str)
        # A multipart upload's files by their content, not their names (json's default=str).
        files = request.FILES if request.content_type.startswith("multipart/") else {}
        if files:
            body += "\n" + ";".join(f"{name}:{_file_digest(upload)}" for name, upload in sorted(files.items()))
    return hashlib.sha256(f"{request.method} {request.path}\n{body}".encode()).hexdigest()


def _key_from(request) -> str:
    key = request.headers.get(HEADER, "")
    if not key.strip():
        raise ApplicationError(
            "idempotency_key_missing", f"Send an {HEADER} header (a unique value, e.g. a UUID) with this request."
        )
    if len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise ValidationFailed({HEADER: [f"Use at most {MAX_KEY_LENGTH} printable characters."]})
    return key


def key_and_fingerprint(request) -> tuple[str, str] | None:
    """The request's usable Idempotency-Key and its fingerprint, for an operation that can run
    (and keep its answer under the key) in one call of its own (POST transfers/): None when the
    key is missing or invalid, whose refusal idempotent_response then gives."""
    try:
        return _key_from(request), _fingerprint(request)
    except ApplicationError:
        return None


def idempotent_response(
    request, operation: Callable[[], tuple[int, dict]], *, required: bool = True
) -> Response:
    """Run `operation` (which returns a status and a JSON body) at most once per user and key.

    With `required=False` a request without a key simply runs (for operations whose state already
    makes a retry harmless, such as approving a pending transaction)."""
    if not required and not request.headers.get(HEADER, "").strip():
        status, body = operation()
        return Response(body, status=status)
    try:
        outcome = run_once(
            user=request.user,
            key=_key_from(request),
            fingerprint=_fingerprint(request),
            operation=operation,
            reused_message=f"This {HEADER} was already used for a different request. Use a new key for a new "
            "operation.",
        )
    except ReplayedRefusal as refusal:
        # The first answer was this refusal (the exception handler wrote it from the same body).
        response = Response(refusal.as_body(), status=refusal.status)
        response[REPLAYED_HEADER] = "true"
        return response
    response = Response(outcome.body, status=outcome.status)
    if outcome.replayed:
        response[REPLAYED_HEADER] = "true"
    return response
