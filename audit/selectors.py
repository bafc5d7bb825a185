"""Reads of the audit log for the staff dashboards: a filtered, cursor-paginated page of records,
the records a live-tail reconnection missed, and the outbox figures (backlog and relay lag)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Count, DateTimeField, Min, Q, QuerySet, Subquery
from django.utils import timezone

from audit.api.filters import AuditLogFilter
from audit.models import AuditEvent, AuditLogRecord, ChainHead, OutboxMessage

PAGE_SIZE = 50
REPLAY_LIMIT = 500
FILTER_NAMES = ("actor", "action", "target_type", "target_id", "from", "to")


@dataclass
class AuditLogPage:
    filterset: AuditLogFilter
    records: list[AuditLogRecord] = field(default_factory=list)
    # The seq to pass as `before` for the next (older) page, None on the last page.
    older: int | None = None

    @property
    def valid(self) -> bool:
        return self.filterset.is_valid()

    @property
    def newest_seq(self) -> int:
        return self.records[0].seq if self.records else 0


def parse_cursor(value: str | None) -> int | None:
    """A `before` cursor (a seq), or None when absent or not a positive number."""
    if value and value.isdigit() and 0 < int(value) < 2**63:
        return int(value)
    return None


def active_filters(params: Mapping[str, str]) -> dict[str, str]:
    return {name: params[name].strip() for name in FILTER_NAMES if params.get(name, "").strip()}


def audit_log_page(*, params: Mapping[str, str], before: int | None = None,
                   page_size: int | None = None) -> AuditLogPage:
    """One page of the audit log, newest first, filtered like GET /api/v1/audit/events/.
    Keyset pagination on seq: one query whatever the length of the log or the page's depth."""
    filterset = AuditLogFilter(active_filters(params), queryset=AuditLogRecord.objects.all())
    page = AuditLogPage(filterset=filterset)
    page_size = page_size or PAGE_SIZE
    if not filterset.is_valid():
        return page
    records = filterset.qs.order_by("-seq")
    if before is not None:
        records = records.filter(seq__lt=before)
    rows = list(records[: page_size + 1])
    page.records = rows[:page_size]
    if len(rows) > page_size:
        page.older = page.records[-1].seq
    return page


def records_after(*, seq: int, params: Mapping[str, str], limit: int = REPLAY_LIMIT) -> list[AuditLogRecord]:
    """Records with a seq above `seq` (oldest first) matching the filters: what a reconnecting live
    tail missed. Invalid filters give nothing (the page shows the error)."""
    filterset = AuditLogFilter(active_filters(params), queryset=AuditLogRecord.objects.all())
    if not filterset.is_valid():
        return []
    return list(filterset.qs.filter(seq__gt=seq).order_by("seq")[:limit])


def newest_seq() -> int:
    head = ChainHead.objects.filter(id=1).values_list("last_seq", flat=True).first()
    return head or 0


@dataclass(frozen=True)
class OutboxState:
    backlog: int
    oldest_at: datetime | None

    @property
    def relay_lag_seconds(self) -> float:
        """How long the oldest unpublished event has waited (0 when the outbox is empty)."""
        if self.oldest_at is None:
            return 0.0
        return max(0.0, (timezone.now() - self.oldest_at).total_seconds())


def first_waiting_event_ids(limit: int) -> QuerySet:
    """The ids of the `limit` oldest events in the outbox (by id), read from the outbox alone.

    Never through a join from the events, whose plan depends on the statistics of a table
    emptied and refilled ten times a second: under load PostgreSQL merge-joined the two primary
    keys, walking the events' index from the first event ever recorded up to the first one
    waiting at every poll (4 ms with 6,500 published events, growing with the audit log: the
    relay's costliest statement, issue 11), or hashed the whole events table."""
    return OutboxMessage.objects.order_by("event_id").values("event_id")[:limit]


def outbox_state() -> OutboxState:
    # One query, so the count and the oldest row agree (two could straddle the relay's publish:
    # an empty backlog with a lag). The oldest is the first event waiting, looked up by its id
    # (first_waiting_event_ids): a scalar subquery, run once; Min of that one value over the
    # outbox's rows is the value itself, or NULL when the outbox is empty.
    first_at = AuditEvent.objects.filter(pk=Subquery(first_waiting_event_ids(1))).values("occurred_at")
    figures = OutboxMessage.objects.aggregate(
        backlog=Count("pk"), oldest_at=Min(Subquery(first_at, output_field=DateTimeField()))
    )
    return OutboxState(backlog=figures["backlog"], oldest_at=figures["oldest_at"])


def event_queryset_about(targets: Mapping[str, object]) -> QuerySet[AuditEvent]:
    """The audit events whose target is one of `targets`: each target type mapped to its ids, as
    text (a list, or a queryset whose one column is the id cast to text: matched as a subquery, so
    a long history costs no extra round trip). An app asks this for what it knows are its targets
    (banking.selectors.customer_event_queryset: a customer, their accounts, their transactions)."""
    about = Q(pk__in=[])
    for target_type, ids in targets.items():
        about |= Q(target_type=target_type, target_id__in=ids)
    return AuditEvent.objects.filter(about).select_related("actor")
