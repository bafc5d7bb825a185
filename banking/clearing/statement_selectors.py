"""Reads of imported camt.053 statements (the desk's upload page, the API's list)."""

from __future__ import annotations

from django.db.models import QuerySet

from banking.models import Statement, StatementEntry
from core.errors import NotFound
from core.ids import parse_id


def statements_recent(*, limit: int = 20) -> list[Statement]:
    """The latest statements imported, newest first, without their files."""
    return list(Statement.objects.defer("file").select_related("uploaded_by")[:limit])


def statement_get(statement_id: object) -> Statement:
    try:
        return Statement.objects.defer("file").select_related("uploaded_by").get(pk=parse_id(statement_id))
    except Statement.DoesNotExist:
        raise NotFound("Statement not found.") from None


def statement_entries(statement: Statement) -> QuerySet[StatementEntry]:
    """Its entries in file order, each with the account a credit reached (or the suspense item)."""
    return statement.statement_entries.select_related(
        "transaction__destination", "suspense_item").order_by("position")
