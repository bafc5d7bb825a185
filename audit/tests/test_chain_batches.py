"""Appending a batch to the hash chain (audit.chain.append_batch, what the consumer does with each
fetch): the rows link in the order given, each event is stored once whatever else is in the log or
in the batch, and a batch that fails part-way stores nothing - the chain head included."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection

from audit.chain import GENESIS, append, append_batch, verify
from audit.models import AuditLogRecord, ChainHead
from audit.tests.support import LOG, event, fill

pytestmark = pytest.mark.django_db


def chain() -> list[tuple[int, str, str]]:
    return list(AuditLogRecord.objects.order_by("seq").values_list("event_id", "prev_hash", "hash"))


def test_a_batch_links_each_row_to_the_one_before_in_the_order_given():
    before = fill(2)
    records, skipped = append_batch([event(10), event(5), event(7)])  # arrival order, not id order

    assert skipped == []
    assert [record.event_id for record in records] == [10, 5, 7]
    assert [event_id for event_id, _, _ in chain()] == [1, 2, 10, 5, 7]
    links = [before[-1].hash] + [record.hash for record in records[:-1]]
    assert [record.prev_hash for record in records] == links
    assert [record.seq for record in records] == sorted(record.seq for record in records)
    head = ChainHead.objects.get()
    assert (head.last_seq, head.last_hash, head.length) == (records[-1].seq, records[-1].hash, 5)
    verdict = verify()
    assert (verdict.ok, verdict.checked) == (True, 5)


def test_a_batch_stores_each_event_once_whatever_is_in_the_log_or_repeated_in_the_batch():
    stored, _ = append(event(2))
    records, skipped = append_batch([event(1), event(2, data={"amount": "forged"}), event(3), event(3), event(4)])

    assert [record.event_id for record in records] == [1, 3, 4]
    assert skipped == [2, 3]
    assert AuditLogRecord.objects.get(event_id=2).hash == stored.hash  # the first one stands
    assert AuditLogRecord.objects.count() == 4
    assert ChainHead.objects.get().length == 4
    assert verify().ok

    again, skipped_again = append_batch([event(1), event(4)])  # a whole batch redelivered
    assert again == [] and skipped_again == [1, 4]
    assert ChainHead.objects.get().length == 4


def test_the_first_batch_starts_the_chain_and_an_empty_one_changes_nothing():
    assert append_batch([]) == ([], [])
    records, _ = append_batch([event(1), event(2)])
    assert records[0].prev_hash == GENESIS and records[1].prev_hash == records[0].hash
    assert append_batch([]) == ([], [])
    assert ChainHead.objects.get().length == 2


@pytest.mark.postgres
def test_a_batch_that_fails_part_way_stores_nothing_then_stores_everything_once_when_retried():
    if connection.vendor != "postgresql":
        pytest.skip("needs a PostgreSQL trigger to fail the INSERT part-way")
    fill(3)
    head_before, log_before = ChainHead.objects.values().get(), chain()
    with connection.cursor() as cursor:
        # The database refuses the 5th row of the batch, after the 4 before it were inserted.
        cursor.execute("""CREATE FUNCTION flux_test_refuse_row() RETURNS trigger AS $$
                          BEGIN RAISE EXCEPTION 'refused for the test'; END; $$ LANGUAGE plpgsql""")
        cursor.execute(f"""CREATE TRIGGER flux_test_refuse BEFORE INSERT ON {LOG} FOR EACH ROW
                           WHEN (NEW.event_id = 15) EXECUTE FUNCTION flux_test_refuse_row()""")
    batch = [event(event_id) for event_id in range(11, 19)]

    with pytest.raises(DatabaseError, match="refused for the test"):
        append_batch(batch)

    assert chain() == log_before
    assert ChainHead.objects.values().get() == head_before
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TRIGGER flux_test_refuse ON {LOG}")
    records, skipped = append_batch(batch)  # the batch redelivered
    assert [record.event_id for record in records] == list(range(11, 19)) and skipped == []
    assert [event_id for event_id, _, _ in chain()] == [1, 2, 3, *range(11, 19)]
    verdict = verify()
    assert (verdict.ok, verdict.checked) == (True, 11)
