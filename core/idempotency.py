"""Run a money-moving operation at most once per user and key (DESIGN.md, "Idempotency").

One mechanism for every channel: the API (`Idempotency-Key` header, core/api/idempotency.py) and
the pages (a hidden token minted when the form renders, portal/views/transfers.py and
workspace/views/counter.py) and the bulk imports (workspace/imports/) all call `run_once`, and
all store their keys in `IdempotencyKey`.

The key row is claimed *before* the operation, inside the same database transaction, with one
INSERT ... ON CONFLICT DO NOTHING: a concurrent request with the same key waits on the unique
index until the first one commits, then finds the key taken and replays its outcome. The same key
with a different fingerprint is refused with idempotency_key_reused.

The first answer is the answer, refusals included: a business refusal (an ApplicationError of
status 403, 404, 409 or 422 raised by the operation, such as insufficient_funds or account_frozen)
is stored under the key and raised again, as a `ReplayedRefusal`, on every retry with the same key
and fingerprint. Otherwise a client told "insufficient funds", who then paid some other way, would
pay twice when a retry of the first request ran after the money arrived. On a refusal the whole
transaction rolls back, the operation's writes with the key row, and a second transaction claims
the key again to hold the refusal; a request with the same key that claimed it in between (it was
waiting on the first claim) ran first, and its answer is the one replayed. No savepoint: the
operation's success, the common case, costs two round trips less (SAVEPOINT, RELEASE; issue 11).
Only what runs nothing is not kept (a 400 such as validation_error, or any other exception): the
key stays free and a corrected request may use it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import OperationalError, connection, transaction
from django.utils import timezone

from core.errors import ApplicationError
from core.models import IdempotencyKey

# PostgreSQL deadlock_detected and serialization_failure: safe to retry the whole transaction.
RETRYABLE_SQLSTATES = {"40P01", "40001"}
ATTEMPTS = 4


@dataclass(frozen=True)
class Outcome:
    """What the operation answered the first time: an HTTP-style status and a JSON-able body."""

    status: int
    body: dict
    replayed: bool


def fingerprint(*parts: object) -> str:
    """A stable digest of what an operation was asked to do (channel, endpoint, parameters)."""
    text = json.dumps(parts, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


# The refusals that are the operation's answer and are kept under the key (see the module docstring).
STORED_REFUSAL_STATUSES = frozenset({403, 404, 409, 422})


class ReplayedRefusal(ApplicationError):
    """A refusal stored under a key, raised again on a retry with the same key and fingerprint:
    the same code, message, fields and status as the first time, with `replayed` set so the API
    can say so (Idempotent-Replayed: true)."""

    replayed = True

    def __init__(self, status: int, body: dict):
        error = body["error"]
        super().__init__(error["code"], error["message"], fields=error.get("fields"))
        self._status = status
        self._body = body

    def as_body(self) -> dict:
        # The body as stored: it may carry more than code, message and fields (batch_refused's items).
        return self._body

    @property
    def status(self) -> int:
        return self._status


def _replay(stored: IdempotencyKey, request_fingerprint: str, *, reused_message: str) -> Outcome:
    if stored.fingerprint != request_fingerprint:
        raise ApplicationError("idempotency_key_reused", reused_message)
    if stored.response_status in STORED_REFUSAL_STATUSES:
        raise ReplayedRefusal(stored.response_status, stored.response_body)
    return Outcome(stored.response_status, stored.response_body, replayed=True)


def is_retryable(exc: OperationalError) -> bool:
    return getattr(getattr(exc, "__cause__", None), "sqlstate", None) in RETRYABLE_SQLSTATES


class _Refused(Exception):
    """Carries a business refusal out of the operation's transaction, rolling it back."""

    def __init__(self, error: ApplicationError):
        super().__init__(error.code)
        self.error = error


def _claim(*, user, key: str, fingerprint: str) -> int | None:
    """Insert the key row, or do nothing if (user, key) exists: its id, or None when taken.

    One statement where a look-up then an insert took two (the look-up ran on every request, the
    replay being the rare case). Raw SQL: the ORM's ignore_conflicts returns no id."""
    table = connection.ops.quote_name(IdempotencyKey._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (user_id, key, fingerprint, response_status, response_body, created_at) "
            "VALUES (%s, %s, %s, 0, %s, %s) ON CONFLICT (user_id, key) DO NOTHING RETURNING id",
            [user.pk, key, fingerprint, "{}", connection.ops.adapt_datetimefield_value(timezone.now())],
        )
        row = cursor.fetchone()
    return row[0] if row else None


def _keep(key_id: int, status: int, body: dict) -> None:
    """Store the outcome under the claimed key. Raw SQL, as _claim: the ORM's update compiled a
    query for each transfer (0.7 ms of CPU, issue 11)."""
    table = connection.ops.quote_name(IdempotencyKey._meta.db_table)
    body_field = IdempotencyKey._meta.get_field("response_body")
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET response_status = %s, response_body = %s WHERE id = %s",
            [status, body_field.get_db_prep_save(body, connection), key_id],
        )


def run_once(
    *,
    user,
    key: str,
    fingerprint: str,
    operation: Callable[[], tuple[int, dict]],
    reused_message: str = "This key was already used for a different operation. Use a new key.",
) -> Outcome:
    """Run `operation` (returning a status and a JSON body) unless `user` already ran `key`.

    A second call with the same key and fingerprint replays the stored outcome without running
    anything; with another fingerprint it raises idempotency_key_reused. A business refusal from
    the operation (an ApplicationError of a status in STORED_REFUSAL_STATUSES) is stored and
    raised, and raised again as a ReplayedRefusal on every retry; any other exception propagates
    and leaves no key behind."""
    for attempt in range(ATTEMPTS):
        refusal: ApplicationError | None = None
        try:
            try:
                with transaction.atomic():
                    claimed = _claim(user=user, key=key, fingerprint=fingerprint)
                    if claimed is None:
                        # Taken, and committed: a concurrent holder of the key was waited for above.
                        stored = IdempotencyKey.objects.get(user=user, key=key)
                    else:
                        try:
                            status, body = operation()
                        except ApplicationError as error:
                            if error.status not in STORED_REFUSAL_STATUSES:
                                raise  # runs nothing worth keeping: the whole block, key row included, rolls back
                            raise _Refused(error) from error  # rolls back the operation's writes, and the key
                        _keep(claimed, status, body)
            except _Refused as refused:
                # The key is claimed again, in a transaction of its own, to hold the refusal. A
                # request with the same key that claimed it in between has the answer (replayed).
                refusal = refused.error
                # Through JSON once, so a lazy translated message is stored (and replayed) as text.
                status, body = refusal.status, json.loads(json.dumps(refusal.as_body(), default=str))
                with transaction.atomic():
                    claimed = _claim(user=user, key=key, fingerprint=fingerprint)
                    if claimed is None:
                        stored = IdempotencyKey.objects.get(user=user, key=key)
                    else:
                        _keep(claimed, status, body)
        except OperationalError as exc:
            if not is_retryable(exc) or attempt == ATTEMPTS - 1:
                raise
            continue
        if claimed is None:
            return _replay(stored, fingerprint, reused_message=reused_message)
        if refusal is not None:
            raise refusal  # after the commit: the key now holds it
        return Outcome(status, body, replayed=False)
    raise AssertionError("unreachable: the last attempt returns or raises")


# Keys are promised to last at least 24 hours (DESIGN.md): a shorter setting is raised to this.
MINIMUM_TTL_HOURS = 24


def idempotency_ttl() -> timedelta:
    return timedelta(hours=max(int(settings.FLUX_IDEMPOTENCY_TTL_HOURS), MINIMUM_TTL_HOURS))


def purge_expired_keys(*, now: datetime | None = None) -> int:
    """Forget the idempotency keys older than idempotency_ttl(). Returns how many went; running it
    twice, or from two processes at once, deletes each key once."""
    cutoff = (now or timezone.now()) - idempotency_ttl()
    _total, by_model = IdempotencyKey.objects.filter(created_at__lt=cutoff).delete()
    return by_model.get(IdempotencyKey._meta.label, 0)
