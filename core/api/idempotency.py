"""Idempotent execution of money-moving API requests (DESIGN.md, "Idempotency").

The key row is inserted *before* the operation, inside the same database transaction. A
concurrent request with the same key therefore waits on the unique index until the first one
commits, then replays its response; if the first one fails, nothing was stored and the second
one runs. Same key with a different body (or endpoint) is refused with idempotency_key_reused.
Refusals (4xx) are not stored: nothing moved, so a retry may run again.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable

from django.db import IntegrityError, OperationalError, transaction
from django.utils import timezone
from rest_framework.response import Response

from banking.models import IdempotencyKey
from core.errors import ApplicationError, ValidationFailed

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255
# PostgreSQL deadlock_detected and serialization_failure: safe to retry the whole transaction.
RETRYABLE_SQLSTATES = {"40P01", "40001"}


def _fingerprint(request) -> str:
    body = json.dumps(request.data, sort_keys=True, separators=(",", ":"), default=str)
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


def _replay(stored: IdempotencyKey, fingerprint: str) -> Response:
    if stored.fingerprint != fingerprint:
        raise ApplicationError(
            "idempotency_key_reused",
            f"This {HEADER} was already used for a different request. Use a new key for a new operation.",
        )
    response = Response(stored.response_body, status=stored.response_status)
    response["Idempotent-Replayed"] = "true"
    return response


def _is_retryable(exc: OperationalError) -> bool:
    return getattr(getattr(exc, "__cause__", None), "sqlstate", None) in RETRYABLE_SQLSTATES


def idempotent_response(
    request, operation: Callable[[], tuple[int, dict]], *, required: bool = True
) -> Response:
    """Run `operation` (which returns a status and a JSON body) at most once per user and key.

    With `required=False` a request without a key simply runs (for operations whose state already
    makes a retry harmless, such as approving a pending transaction)."""
    if not required and not request.headers.get(HEADER, "").strip():
        status, body = operation()
        return Response(body, status=status)
    key = _key_from(request)
    fingerprint = _fingerprint(request)
    user = request.user
    for attempt in range(4):
        stored = IdempotencyKey.objects.filter(user=user, key=key).first()
        if stored is not None:
            return _replay(stored, fingerprint)
        try:
            with transaction.atomic():
                record = IdempotencyKey.objects.create(
                    user=user,
                    key=key,
                    fingerprint=fingerprint,
                    response_status=0,
                    response_body={},
                    created_at=timezone.now(),
                )
                status, body = operation()
                record.response_status, record.response_body = status, body
                record.save(update_fields=["response_status", "response_body"])
            return Response(body, status=status)
        except IntegrityError:
            # Lost the race to a concurrent request with this key: it has committed by now.
            if not IdempotencyKey.objects.filter(user=user, key=key).exists():
                raise
        except OperationalError as exc:
            if not _is_retryable(exc) or attempt == 3:
                raise
    stored = IdempotencyKey.objects.get(user=user, key=key)
    return _replay(stored, fingerprint)
