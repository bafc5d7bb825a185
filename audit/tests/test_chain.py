"""The hash-chained audit log: appends are idempotent by event id, and editing, deleting or
reordering rows (as a database owner could, past the append-only trigger) is detected."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from audit import actions
from audit.chain import GENESIS, append, verify
from audit.models import AuditEvent, AuditLogRecord, ChainHead
from audit.services import audit_record
from audit.tests.support import LOG, START, as_database_owner, event, fill

pytestmark = pytest.mark.django_db

def test_append_links_each_row_to_the_previous_one():
    first, second = fill(2)
    assert first.prev_hash == GENESIS
    assert second.prev_hash == first.hash
    head = ChainHead.objects.get()
    assert (head.last_seq, head.last_hash, head.length) == (second.seq, second.hash, 2)


def test_append_is_idempotent_by_event_id():
    record, created = append(event(1))
    again, created_again = append(event(1, data={"amount": "other"}))
    assert created and not created_again
    assert again.seq == record.seq and again.hash == record.hash
    assert AuditLogRecord.objects.count() == 1
    assert ChainHead.objects.get().length == 1
    assert verify().ok


def test_verify_an_empty_and_an_intact_chain():
    assert verify() == verify().__class__(True, 0, None)
    fill(12)
    verdict = verify(chunk_size=5)
    assert (verdict.ok, verdict.checked, verdict.first_bad) == (True, 12, None)


def test_the_stored_row_round_trips_what_was_sent():
    sent = event(3, actor_id=None, actor_username="", data={"nested": {"b": 1, "a": [1, 2]}, "n": None})
    record, _ = append(sent)
    record.refresh_from_db()
    assert record.event_id == 3 and record.actor_id is None and record.data == sent["data"]
    assert record.occurred_at == START + timedelta(seconds=3)
    assert verify().ok


def test_editing_a_row_is_detected_at_that_row():
    records = fill(6)
    with as_database_owner() as cursor:
        cursor.execute(f"UPDATE {LOG} SET actor_username = 'mallory' WHERE seq = %s", [records[2].seq])
    verdict = verify()
    assert (verdict.ok, verdict.first_bad, verdict.checked) == (False, records[2].seq, 3)
    assert "content" in verdict.reason


def test_editing_a_rows_data_is_detected_at_that_row():
    records = fill(6)
    with as_database_owner() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"""UPDATE {LOG} SET data = jsonb_set(data::jsonb, '{{amount}}', '"0.01"')::jsonb
                               WHERE seq = %s""", [records[4].seq])
        else:
            cursor.execute(f"UPDATE {LOG} SET data = json_set(data, '$.amount', '0.01') WHERE seq = %s",
                           [records[4].seq])
    assert AuditLogRecord.objects.get(seq=records[4].seq).data["amount"] == "0.01"
    verdict = verify()
    assert (verdict.ok, verdict.first_bad) == (False, records[4].seq)


def test_deleting_a_middle_row_is_detected_at_the_row_after_it():
    records = fill(6)
    with as_database_owner() as cursor:
        cursor.execute(f"DELETE FROM {LOG} WHERE seq = %s", [records[2].seq])
    verdict = verify()
    assert (verdict.ok, verdict.first_bad) == (False, records[3].seq)
    assert "link" in verdict.reason


def test_swapping_two_rows_is_detected_at_the_first_of_them():
    records = fill(6)
    a, b = records[1].seq, records[4].seq
    with as_database_owner() as cursor:  # reorder: the two rows trade places in the sequence
        cursor.execute(f"UPDATE {LOG} SET seq = -1 WHERE seq = %s", [a])
        cursor.execute(f"UPDATE {LOG} SET seq = %s WHERE seq = %s", [a, b])
        cursor.execute(f"UPDATE {LOG} SET seq = %s WHERE seq = -1", [b])
    assert AuditLogRecord.objects.get(seq=a).event_id == records[4].event_id
    verdict = verify()
    assert (verdict.ok, verdict.first_bad) == (False, a)


def test_swapping_two_adjacent_rows_is_detected_at_the_first_of_them():
    records = fill(4)
    a, b = records[1].seq, records[2].seq
    with as_database_owner() as cursor:
        cursor.execute(f"UPDATE {LOG} SET seq = -1 WHERE seq = %s", [a])
        cursor.execute(f"UPDATE {LOG} SET seq = %s WHERE seq = %s", [a, b])
        cursor.execute(f"UPDATE {LOG} SET seq = %s WHERE seq = -1", [b])
    assert verify().first_bad == a


def test_deleting_the_last_row_is_detected_from_the_head():
    records = fill(5)
    with as_database_owner() as cursor:
        cursor.execute(f"DELETE FROM {LOG} WHERE seq = %s", [records[-1].seq])
    verdict = verify()
    assert (verdict.ok, verdict.first_bad, verdict.checked) == (False, records[-1].seq, 4)


def test_deleting_every_row_is_detected():
    records = fill(3)
    with as_database_owner() as cursor:
        cursor.execute(f"DELETE FROM {LOG}")
    verdict = verify()
    assert (verdict.ok, verdict.first_bad, verdict.checked) == (False, records[-1].seq, 0)


def test_audit_verify_command(capsys):
    records = fill(4)
    call_command("audit_verify")
    assert "OK: 4 rows" in capsys.readouterr().out
    with as_database_owner() as cursor:
        cursor.execute(f"UPDATE {LOG} SET target_id = 'elsewhere' WHERE seq = %s", [records[1].seq])
    with pytest.raises(CommandError, match=rf"seq={records[1].seq}\b"):
        call_command("audit_verify")


def test_the_helper_puts_the_triggers_back():
    records = fill(2)
    with as_database_owner():
        pass
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditLogRecord.objects.filter(seq=records[0].seq).update(actor_username="mallory")


@pytest.fixture
def audit_event(agnes) -> AuditEvent:
    with transaction.atomic():
        return audit_record(actor=agnes, action=actions.ACCOUNT_FROZEN, target_type="account", target_id=1)


@pytest.mark.parametrize("statement", [
    f"UPDATE {LOG} SET actor_username = 'mallory'",
    f"UPDATE {LOG} SET hash = prev_hash",
    f"DELETE FROM {LOG}",
    "UPDATE audit_auditevent SET action = 'nothing.happened'",
    "DELETE FROM audit_auditevent",
])
def test_the_database_refuses_updates_and_deletes(statement, audit_event):
    fill(3)
    log_before = list(AuditLogRecord.objects.order_by("seq").values_list("seq", "actor_username", "hash"))
    events_before = list(AuditEvent.objects.values_list("pk", "action"))
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement)
    assert list(AuditLogRecord.objects.order_by("seq").values_list("seq", "actor_username", "hash")) == log_before
    assert list(AuditEvent.objects.values_list("pk", "action")) == events_before
    assert verify().ok


def test_the_orm_cannot_change_the_log_either():
    fill(2)
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditLogRecord.objects.all().delete()
    with pytest.raises(DatabaseError), transaction.atomic():
        record = AuditLogRecord.objects.first()
        record.action = "nothing.happened"
        record.save()
    assert AuditLogRecord.objects.count() == 2 and verify().ok


def test_the_schedulers_check_reports_a_broken_chain(caplog):
    from audit.jobs import CHAIN_CHECKED, CHAIN_INTACT, verify_chain

    records = fill(4)
    assert verify_chain() == 4
    assert CHAIN_INTACT._value.get() == 1 and CHAIN_CHECKED._value.get() == 4
    with as_database_owner() as cursor:
        cursor.execute(f"UPDATE {LOG} SET actor_username = 'mallory' WHERE seq = %s", [records[1].seq])
    verify_chain()
    assert CHAIN_INTACT._value.get() == 0
    assert f"the audit chain is broken at record {records[1].seq}" in caplog.text
