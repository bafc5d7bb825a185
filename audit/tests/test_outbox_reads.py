"""The reads of the outbox (the relay's next batch, /readyz and the dashboards' backlog and lag)
cost what is waiting, not what was ever published: they start from the outbox, never from the
audit events (issue 11: ordered by id, a join walked the events' index from the first event ever
recorded, on every poll of the relay)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from audit.health import outbox_figures
from audit.models import AuditEvent, OutboxMessage
from audit.relay import pending_events
from audit.selectors import outbox_state

pytestmark = pytest.mark.django_db

PUBLISHED = 3000


def _events(count: int, *, start) -> list[AuditEvent]:
    return AuditEvent.objects.bulk_create(
        AuditEvent(occurred_at=start + timedelta(milliseconds=index), action="transaction.posted",
                   target_type="transaction", target_id=str(index))
        for index in range(count)
    )


@pytest.fixture
def history():
    """PUBLISHED events the relay has forgotten, then five still waiting in the outbox."""
    start = timezone.now() - timedelta(minutes=10)
    _events(PUBLISHED, start=start)
    waiting = _events(5, start=start + timedelta(minutes=5))
    OutboxMessage.objects.bulk_create(OutboxMessage(event=event) for event in waiting)
    return waiting


def test_the_relay_reads_the_oldest_waiting_events_in_order_up_to_its_batch_size(history):
    assert [event.pk for event in pending_events(3)] == [event.pk for event in history[:3]]
    assert [event.pk for event in pending_events(100)] == [event.pk for event in history]
    OutboxMessage.objects.all().delete()
    assert pending_events(100) == []


def test_the_backlog_and_the_age_of_the_first_waiting_event(history):
    state = outbox_state()
    assert state.backlog == 5
    assert state.oldest_at == history[0].occurred_at
    figures = outbox_figures()
    assert figures["outbox_backlog"] == 5
    assert 4 * 60 < figures["outbox_oldest_age_seconds"] < 6 * 60

    OutboxMessage.objects.all().delete()
    assert (outbox_state().backlog, outbox_state().oldest_at) == (0, None)
    assert outbox_figures() == {"outbox_backlog": 0, "outbox_oldest_age_seconds": 0.0}


def _event_rows_read() -> int:
    """Rows of the audit events read so far in this transaction (scanned or fetched by index)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT COALESCE(seq_tup_read, 0) + COALESCE(idx_tup_fetch, 0) FROM pg_stat_xact_user_tables "
            "WHERE relname = %s",
            [AuditEvent._meta.db_table],
        )
        return cursor.fetchone()[0]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's statistics of this transaction")
@pytest.mark.parametrize("read", [lambda: pending_events(100), outbox_state, outbox_figures])
def test_reading_the_outbox_does_not_read_the_published_history(history, read):
    before = _event_rows_read()
    read()
    assert _event_rows_read() - before <= len(history)
