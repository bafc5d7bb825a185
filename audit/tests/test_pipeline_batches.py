"""The relay and the consumer in batches, as real processes against a real nats-server (issue 11):
a burst from many transactions, the consumer killed inside a batch's transaction, the database
refusing a batch part-way, the relay killed between publishing and forgetting, and forgeries in
the middle of a batch all end the same way: every committed event in the log exactly once, the
outbox empty, the chain verifying.

A process is stopped at a precise point by a PostgreSQL trigger that sleeps (pg_sleep) when it
reaches it: the test sees the process waiting there (pg_stat_activity), kills it with SIGKILL and
terminates its database session, as PostgreSQL does once it notices its client is gone (here at
once rather than when the sleep ends), which rolls back whatever that session had not committed."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from django.conf import settings
from django.db import connection, transaction

from audit import actions
from audit.models import AuditLogRecord, OutboxMessage
from audit.relay import Relay
from audit.services import audit_record
from audit.signing import MSG_ID_HEADER, SIGNATURE_HEADER
from audit.tests.support import assert_everything_logged_once, consumer_idle, event, event_ids, jetstream
from core.testing.nats import wait_until

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def postgresql_only(db):
    if connection.vendor != "postgresql":
        pytest.skip("these tests stop processes with PostgreSQL triggers (set DATABASE_URL)")


@pytest.fixture(autouse=True)
def batches_of_500(monkeypatch):
    """The default batch sizes, whatever this environment says: the tests count on them."""
    monkeypatch.setenv("FLUX_RELAY_BATCH_SIZE", "500")
    monkeypatch.setenv("FLUX_AUDIT_CONSUMER_BATCH_SIZE", "500")


def record_events(transactions: int, per_transaction: int = 1, *, tag: str = "") -> None:
    """Events committed as services commit them: `per_transaction` in each of `transactions`."""
    for number in range(transactions):
        with transaction.atomic():
            for item in range(per_transaction):
                audit_record(actor=None, action=actions.TRANSACTION_POSTED, target_type="transaction",
                             target_id=f"{number}", data={"amount": "1.00", "item": item, "tag": tag})


def stream_state(url: str):
    async def state(js):
        return (await js.stream_info(settings.FLUX_AUDIT_STREAM)).state

    return jetstream(url, state)


def batches_stored() -> int:
    """The consumer stamps every row of a batch with one recorded_at."""
    return AuditLogRecord.objects.values("recorded_at").distinct().count()


@contextmanager
def stall(table: str, *, when: str = "true", for_each: str = "ROW", operation: str = "INSERT") -> Iterator[None]:
    """Whoever writes `table` (rows matching `when`) sleeps there, inside its statement."""
    with connection.cursor() as cursor:
        cursor.execute("""CREATE FUNCTION flux_test_stall() RETURNS trigger AS $$
                          BEGIN PERFORM pg_sleep(60); RETURN NEW; END; $$ LANGUAGE plpgsql""")
        cursor.execute(f"""CREATE TRIGGER flux_test_stall BEFORE {operation} ON {table} FOR EACH {for_each}
                           WHEN ({when}) EXECUTE FUNCTION flux_test_stall()""")
    try:
        yield
    finally:
        terminate_stalled_sessions()
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TRIGGER flux_test_stall ON {table}")
            cursor.execute("DROP FUNCTION flux_test_stall()")


def stalled_sessions(service: str = "") -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute("""SELECT pid FROM pg_stat_activity WHERE datname = current_database()
                          AND wait_event = 'PgSleep' AND application_name LIKE %s""", [f"flux-{service}%"])
        return [pid for (pid,) in cursor.fetchall()]


def terminate_stalled_sessions() -> None:
    with connection.cursor() as cursor:
        for pid in stalled_sessions():
            cursor.execute("SELECT pg_terminate_backend(%s, 10000)", [pid])


def test_a_burst_from_many_transactions_is_logged_once_in_batches(pipeline, nats_server):
    relay = pipeline("audit_relay")
    consumer = pipeline("audit_consume")
    errors: list[BaseException] = []

    def writer() -> None:  # 8 writers x 50 transactions x 5 events, committing side by side
        try:
            record_events(50, 5)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=writer) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors
    total = len(event_ids())
    assert total == 2000

    assert_everything_logged_once(timeout=60)
    assert stream_state(nats_server.url).messages == total  # each published once (or de-duplicated)
    batches = batches_stored()
    print(f"\n[audit] {total} events from 400 transactions stored in {batches} batches")
    assert batches <= total // 4, "the consumer stored the burst (nearly) event by event"
    assert f"{total} stored, 0 duplicates, 0 refused" in consumer.stop()
    assert f"after publishing {total} events" in relay.stop()


def test_the_relay_waits_longer_between_polls_under_load_and_not_when_traffic_is_light(pipeline):
    """A poll that found FLUX_RELAY_LINGER_FROM events or more is followed by FLUX_RELAY_LINGER_SECONDS
    of waiting, so that the next events gather into one batch; after a light poll, only
    FLUX_RELAY_SWEEP_SECONDS (0.1 s here)."""
    pipeline("audit_relay", FLUX_RELAY_LINGER_FROM="10", FLUX_RELAY_LINGER_SECONDS="6")
    record_events(1, 10)  # one commit: one poll finds all ten
    wait_until(lambda: not OutboxMessage.objects.exists(), timeout=30, message="the relay did not publish the ten")
    record_events(1, 1, tag="gathering")
    # Within the relay's 6 seconds of waiting (an idle relay would have polled 15 times meanwhile).
    time.sleep(1.5)
    assert OutboxMessage.objects.count() == 1
    wait_until(lambda: not OutboxMessage.objects.exists(), timeout=30, message="the relay never polled again")
    record_events(1, 1, tag="light")  # the last poll found one: the relay polls again after 0.1 s
    wait_until(lambda: not OutboxMessage.objects.exists(), timeout=4, message="a light poll was followed by lingering")


@pytest.mark.parametrize(("found", "pause"), [(0, 0.1), (19, 0.1), (20, 0.5), (499, 0.5), (500, 0.0)])
def test_the_pause_after_a_poll(found, pause):
    assert Relay(batch_size=500, sweep_seconds=0.1, linger_seconds=0.5, linger_from=20).pause_after(found) == pause


def test_a_consumer_killed_inside_a_batch_transaction_stores_that_batch_once_after_restart(
        pipeline, nats_server, monkeypatch):
    monkeypatch.setenv("FLUX_AUDIT_ACK_WAIT_SECONDS", "2")  # the killed consumer's batch comes back soon
    pipeline("audit_relay")
    record_events(300)
    wait_until(lambda: not OutboxMessage.objects.exists(), timeout=30, message="the relay did not drain the outbox")
    ids = sorted(event_ids())
    stalled_id = ids[149]  # in the middle of the second batch of 100

    with stall(AuditLogRecord._meta.db_table, when=f"NEW.event_id = {stalled_id}"):
        first = pipeline("audit_consume", FLUX_AUDIT_CONSUMER_BATCH_SIZE="100", FLUX_SERVICE="consumer")
        wait_until(lambda: stalled_sessions("consumer"), timeout=30, message="the consumer never reached the row")
        # The first batch is committed; the second is inside its transaction, 49 rows inserted.
        assert sorted(AuditLogRecord.objects.values_list("event_id", flat=True)) == ids[:100]
        first.kill()
    assert sorted(AuditLogRecord.objects.values_list("event_id", flat=True)) == ids[:100]  # rolled back

    second = pipeline("audit_consume", FLUX_AUDIT_CONSUMER_BATCH_SIZE="100")
    assert_everything_logged_once(timeout=40)
    # The first batch was acked before the kill, so nothing comes back as a duplicate.
    assert "200 stored, 0 duplicates, 0 refused" in second.stop()


def test_a_batch_the_database_refuses_is_redelivered_whole_and_stored_once(pipeline, nats_server):
    pipeline("audit_relay")
    record_events(60)
    wait_until(lambda: not OutboxMessage.objects.exists(), timeout=30, message="the relay did not drain the outbox")
    ids = sorted(event_ids())
    log = AuditLogRecord._meta.db_table
    with connection.cursor() as cursor:
        # The 31st row is refused; a sequence (never rolled back) counts the attempts.
        cursor.execute("CREATE SEQUENCE flux_test_attempts")
        cursor.execute("""CREATE FUNCTION flux_test_refuse_row() RETURNS trigger AS $$
                          BEGIN PERFORM nextval('flux_test_attempts'); RAISE EXCEPTION 'refused for the test';
                          END; $$ LANGUAGE plpgsql""")
        cursor.execute(f"""CREATE TRIGGER flux_test_refuse BEFORE INSERT ON {log} FOR EACH ROW
                           WHEN (NEW.event_id = {ids[30]}) EXECUTE FUNCTION flux_test_refuse_row()""")

    def attempts() -> int:
        with connection.cursor() as cursor:
            cursor.execute("SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM flux_test_attempts")
            return cursor.fetchone()[0]

    try:
        consumer = pipeline("audit_consume")
        wait_until(lambda: attempts() >= 1, timeout=20, interval=0.01, message="the consumer did not try")
        assert not AuditLogRecord.objects.exists()  # the 30 rows before it were rolled back with it
        wait_until(lambda: attempts() >= 2, timeout=20, interval=0.01,
                   message="the refused batch was not nak'ed and redelivered")
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TRIGGER flux_test_refuse ON {log}")
            cursor.execute("DROP FUNCTION flux_test_refuse_row()")
            cursor.execute("DROP SEQUENCE flux_test_attempts")

    assert_everything_logged_once(timeout=30)
    output = consumer.stop()
    assert "60 stored, 0 duplicates, 0 refused" in output
    assert "could not store a batch of 60 audit events" in output


def test_a_relay_killed_between_publishing_and_forgetting_loses_nothing_and_doubles_nothing(
        pipeline, nats_server):
    record_events(120, 5)
    total = len(event_ids())
    with stall(OutboxMessage._meta.db_table, for_each="STATEMENT", operation="DELETE"):
        first = pipeline("audit_relay", FLUX_SERVICE="relay")
        wait_until(lambda: stalled_sessions("relay"), timeout=30, message="the relay never came to forget")
        # JetStream acked the first batch of 500, the outbox still holds it.
        assert stream_state(nats_server.url).messages == 500
        first.kill()
    assert OutboxMessage.objects.count() == total  # nothing forgotten

    second = pipeline("audit_relay")
    consumer = pipeline("audit_consume")
    assert_everything_logged_once(timeout=40)
    state = stream_state(nats_server.url)
    assert (state.messages, state.last_seq) == (total, total)  # the 500 published again were dropped
    assert f"after publishing {total} events" in second.stop()
    assert f"{total} stored, 0 duplicates, 0 refused" in consumer.stop()


def test_events_jetstream_refuses_stay_in_the_outbox_and_the_rest_of_the_batch_is_forgotten(
        pipeline, nats_server):
    relay = pipeline("audit_relay")
    consumer = pipeline("audit_consume")

    async def stream_refusing_big_messages(js):
        config = (await js.stream_info(settings.FLUX_AUDIT_STREAM)).config
        config.max_msg_size = 1024  # until the relay reconnects: it then sets the stream up as configured
        await js.update_stream(config)

    record_events(1)
    assert_everything_logged_once()  # the relay has set the stream up
    jetstream(nats_server.url, stream_refusing_big_messages)
    with transaction.atomic():
        for number in range(12):
            audit_record(actor=None, action=actions.TRANSACTION_POSTED, target_type="transaction",
                         target_id=number, data={"note": "x" * (2000 if number in (3, 8) else 10)})
    total = len(event_ids())

    assert_everything_logged_once(timeout=40)
    # The ten small ones went first and were forgotten; the two refused ones came after a reconnect.
    logged = list(AuditLogRecord.objects.order_by("seq").values_list("event_id", flat=True))
    big = sorted(event_ids())[-12:][3], sorted(event_ids())[-12:][8]
    assert logged[-2:] == list(big)
    assert stream_state(nats_server.url).messages == total
    output = relay.stop()
    assert "2 of 12 events not acked by JetStream (nats: BadRequestError: code=400 err_code=10054" in output
    assert f"after publishing {total} events" in output
    assert f"{total} stored, 0 duplicates, 0 refused" in consumer.stop()


def test_a_forged_message_inside_a_batch_is_refused_and_the_rest_stored(pipeline, nats_server):
    pipeline("audit_relay")
    record_events(10)
    wait_until(lambda: not OutboxMessage.objects.exists(), timeout=30, message="the relay did not drain the outbox")
    forged = json.dumps(event(999_999, actor_username="mallory"), sort_keys=True, separators=(",", ":")).encode()
    forgeries = [
        ("audit.transaction.posted", forged, None),
        ("audit.transaction.posted", forged, {MSG_ID_HEADER: "999999:x", SIGNATURE_HEADER: "v1=" + "ab" * 32}),
        ("audit.transaction.posted", b"not json", {SIGNATURE_HEADER: "v1=00"}),
    ]

    async def forge(js):
        for subject, data, headers in forgeries:
            await js.publish(subject, data, headers=headers)

    jetstream(nats_server.url, forge)
    record_events(10)
    wait_until(lambda: not OutboxMessage.objects.exists(), timeout=30, message="the relay did not drain the outbox")
    assert stream_state(nats_server.url).messages == 23  # real, forged, real: one fetch takes them all

    consumer = pipeline("audit_consume")
    assert_everything_logged_once()
    wait_until(lambda: consumer_idle(nats_server.url), timeout=20, interval=0.2,
               message="the forgeries were not terminated")
    assert batches_stored() == 1
    assert not AuditLogRecord.objects.filter(actor_username="mallory").exists()
    output = consumer.stop()
    assert "20 stored, 0 duplicates, 3 refused" in output
    assert output.count("ERROR flux.audit.consumer [-] refused an audit message") == 3
