"""An atomic block that joins the caller's instead of nesting a savepoint in it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection, transaction


@contextmanager
def atomic_joined() -> Iterator[None]:
    """A transaction of its own when none is open; inside the caller's, no savepoint at all.

    For services whose every refusal comes before their first write (the money movements: every
    check runs on the locked rows in memory, then one flush writes everything): a refusal then
    has nothing to undo, so the savepoint Django's nested `atomic()` would set and release is two
    round trips for nothing (POST transfers/ runs inside core.idempotency.run_once's transaction;
    issue 11). Unlike `atomic(savepoint=False)`, a refusal does not mark the caller's transaction
    for rollback: the caller may catch it and go on. A database error after a write still aborts
    the caller's transaction on PostgreSQL, so a half-done movement can never commit there."""
    if connection.in_atomic_block:
        yield
        return
    with transaction.atomic():
        yield
