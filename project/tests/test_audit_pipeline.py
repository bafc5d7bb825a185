"""The whole audit pipeline with real processes: outbox -> relay -> JetStream -> consumer -> log.

Outages, a consumer killed mid-stream, duplicate publications and two relays at once all end the
same way: every committed event stored exactly once, the outbox empty, the chain verifying."""

import asyncio
import time

import pytest
from django.conf import settings

from audit.chain import verify
from audit.models import AuditEvent, AuditLogRecord, OutboxMessage
from audit.nats import audit_message
from audit.tests.support import assert_everything_logged_once, consumer_idle, event_ids, jetstream
from banking.services import deposit_create, transfer_create, withdrawal_create
from core.testing.nats import wait_until

pytestmark = pytest.mark.django_db(transaction=True)


def move_money(count: int, *, agnes, alice, alice_account, bob_account) -> None:
    """`count` small money movements of every kind, each its own committed transaction."""
    for number in range(count):
        match number % 3:
            case 0:
                deposit_create(initiator=agnes, account_id=bob_account.pk, amount=100 + number)
            case 1:
                transfer_create(initiator=alice, source_account_id=alice_account.pk,
                                destination_iban=bob_account.iban, amount=1 + number)
            case 2:
                withdrawal_create(initiator=agnes, account_id=bob_account.pk, amount=1 + number)


@pytest.fixture
def movements(agnes, alice, alice_account, bob_account):
    def move(count: int) -> None:
        move_money(count, agnes=agnes, alice=alice, alice_account=alice_account, bob_account=bob_account)

    return move


def test_committed_events_reach_the_audit_log_once_and_verify(agnes, bob_account, pipeline):
    pipeline("audit_relay")
    pipeline("audit_consume")
    for cents in (101, 202, 303):
        deposit_create(initiator=agnes, account_id=bob_account.pk, amount=cents)
    expected = set(AuditEvent.objects.values_list("pk", flat=True))

    wait_until(lambda: AuditLogRecord.objects.count() >= len(expected), timeout=20,
               message="the audit log did not catch up")

    assert set(AuditLogRecord.objects.values_list("event_id", flat=True)) == expected
    assert not OutboxMessage.objects.exists()
    assert verify().ok


def test_nats_down_requests_succeed_and_nothing_is_lost(movements, nats_server, pipeline):
    pipeline("audit_relay")
    pipeline("audit_consume")
    assert_everything_logged_once()  # both processes are connected and working

    nats_server.stop()
    before = event_ids()
    started = time.perf_counter()
    movements(20)
    elapsed = time.perf_counter() - started
    print(f"\n[audit] 20 money movements with NATS down: {elapsed * 1000:.0f} ms "
          f"({elapsed / 20 * 1000:.1f} ms each)")
    assert len(event_ids() - before) == 20
    assert OutboxMessage.objects.count() >= 1  # they wait in the outbox

    nats_server.start()  # same store, same port
    assert_everything_logged_once(timeout=40)


def test_a_consumer_killed_mid_stream_loses_nothing_and_stores_nothing_twice(
        movements, pipeline, nats_server, monkeypatch):
    # Unacked messages of the killed consumer come back after ack_wait: keep it short.
    monkeypatch.setenv("FLUX_AUDIT_ACK_WAIT_SECONDS", "2")
    pipeline("audit_relay")
    movements(200)
    total = len(event_ids())
    wait_until(lambda: not OutboxMessage.objects.exists(), timeout=30, message="the relay did not drain the outbox")

    # Batches of 10, so that there are many to be killed among (test_pipeline_batches.py kills
    # one inside its transaction).
    first = pipeline("audit_consume", FLUX_AUDIT_CONSUMER_BATCH_SIZE="10")
    wait_until(lambda: AuditLogRecord.objects.count() >= 30, timeout=30, interval=0.005)
    first.kill()
    stored_at_kill = AuditLogRecord.objects.count()
    print(f"\n[audit] consumer killed after storing {stored_at_kill}/{total} events")
    assert 0 < stored_at_kill < total, "the consumer finished before it could be killed: kill it sooner"

    pipeline("audit_consume")
    assert_everything_logged_once(timeout=40)


def test_a_republished_event_is_stored_once(agnes, bob_account, pipeline, nats_server):
    pipeline("audit_relay")
    consumer = pipeline("audit_consume")
    for cents in (111, 222, 333):
        deposit_create(initiator=agnes, account_id=bob_account.pk, amount=cents)
    assert_everything_logged_once()
    events = list(AuditEvent.objects.order_by("pk"))
    log_before = list(AuditLogRecord.objects.order_by("seq").values_list("seq", "event_id", "hash"))

    async def republish(js):
        for event in events[-3:]:  # as a relay would after a crash between publish and delete
            subject, payload, headers = audit_message(event)
            assert (await js.publish(subject, payload, headers=headers)).duplicate
        # Past JetStream's de-duplication window (shortened here), a republication is stored
        # again: the consumer must tell.
        stream = await js.stream_info(settings.FLUX_AUDIT_STREAM)
        stream.config.duplicate_window = 0.1  # the least JetStream allows
        await js.update_stream(stream.config)
        before = stream.state.messages
        subject, payload, headers = audit_message(events[-1])
        for _ in range(250):  # until the window has passed (5 s at most)
            if not (await js.publish(subject, payload, headers=headers)).duplicate:
                break
            await asyncio.sleep(0.02)
        return before, (await js.stream_info(settings.FLUX_AUDIT_STREAM)).state.messages

    before, after = jetstream(nats_server.url, republish)
    assert after == before + 1  # the three within the window were dropped, the late one was not
    wait_until(lambda: consumer_idle(nats_server.url), timeout=20, interval=0.2,
               message="the consumer did not take the duplicate")

    assert list(AuditLogRecord.objects.order_by("seq").values_list("seq", "event_id", "hash")) == log_before
    assert_everything_logged_once()
    assert "1 duplicates, 0 refused" in consumer.stop()


def test_two_relays_at_once_store_each_event_once(movements, pipeline):
    pipeline("audit_relay")
    pipeline("audit_relay")
    pipeline("audit_consume")
    movements(30)
    assert_everything_logged_once()


def test_commit_to_log_latency(agnes, bob_account, pipeline):
    pipeline("audit_relay")
    pipeline("audit_consume")
    assert_everything_logged_once()  # warm: both processes connected

    latencies = []
    for cents in (123, 456, 789):
        txn = deposit_create(initiator=agnes, account_id=bob_account.pk, amount=cents)  # committed on return
        committed = time.perf_counter()
        event_id = AuditEvent.objects.get(target_type="transaction", target_id=str(txn.pk)).pk
        wait_until(lambda event_id=event_id: AuditLogRecord.objects.filter(event_id=event_id).exists(),
                   timeout=10, interval=0.002, message="the event did not reach the audit log within 10 s")
        latencies.append(time.perf_counter() - committed)
    print(f"\n[audit] commit -> audit log record: {', '.join(f'{s * 1000:.0f} ms' for s in latencies)}")
    assert max(latencies) < 10
