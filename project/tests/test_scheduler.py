"""The scheduler (core/scheduler.py): pending transactions expire and old idempotency keys go on
time, each job safe to run twice and from two schedulers at once (PostgreSQL advisory locks)."""

from __future__ import annotations

import threading
from datetime import timedelta
from decimal import Decimal
from io import StringIO

import psycopg
import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from audit.models import AuditEvent
from banking.models import Account, Transaction, TransactionStatus
from banking.services import transfer_create
from core.models import IdempotencyKey
from core.scheduler import DONE_RUN, FAILED, SKIPPED, Job, jobs_from_settings, lock_key, run_forever, run_job
from core.testing.nats import database_url_for_subprocess

EXTERNAL_IBAN = "DE89370400440532013000"


def job(name: str) -> Job:
    [found] = [job for job in jobs_from_settings() if job.name == name]
    return found


@pytest.fixture
def expired_pendings(settings, agnes, alice_account) -> list[Transaction]:
    """Five pending transfers out of alice's account, past their expiry, and one still fresh."""
    settings.FLUX_APPROVAL_THRESHOLD = Decimal("10.00")
    old = timezone.now() - timedelta(days=settings.FLUX_PENDING_TTL_DAYS + 1)
    pendings = [transfer_create(initiator=agnes, source_account_id=alice_account.pk, destination_iban=EXTERNAL_IBAN,
                                amount=20_00, at=old) for _ in range(5)]
    transfer_create(initiator=agnes, source_account_id=alice_account.pk, destination_iban=EXTERNAL_IBAN, amount=30_00)
    assert all(txn.status == TransactionStatus.PENDING for txn in pendings)
    return pendings


def assert_expired_once(pendings: list[Transaction], account: Account) -> None:
    for txn in pendings:
        txn.refresh_from_db()
        assert txn.status == TransactionStatus.VOIDED
        [event] = AuditEvent.objects.filter(action="transaction.expired", target_id=str(txn.pk))
        assert event.data["request_id"].startswith("job-expire_pending-")
    account.refresh_from_db()
    assert account.held == 30_00  # only the fresh one still holds its amount
    assert Transaction.objects.filter(status=TransactionStatus.PENDING).count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_schedulers_at_once_expire_each_pending_once(expired_pendings, alice_account):
    if connection.vendor != "postgresql":
        pytest.skip("advisory locks and row locks: PostgreSQL (set DATABASE_URL)")
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def scheduler() -> None:
        barrier.wait(timeout=30)
        outcomes.append(run_job(job("expire_pending")))

    threads = [threading.Thread(target=scheduler) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes) in ([DONE_RUN, DONE_RUN], [DONE_RUN, SKIPPED])
    assert_expired_once(expired_pendings, alice_account)
    # Again: nothing left to do, nothing done twice.
    assert run_job(job("expire_pending")) == DONE_RUN
    assert_expired_once(expired_pendings, alice_account)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_run_skips_while_another_scheduler_holds_the_jobs_lock(expired_pendings, alice_account):
    if connection.vendor != "postgresql":
        pytest.skip("advisory locks: PostgreSQL (set DATABASE_URL)")
    with psycopg.connect(database_url_for_subprocess(), autocommit=True) as other:
        other.execute("SELECT pg_advisory_lock(%s)", [lock_key("expire_pending")])
        assert run_job(job("expire_pending")) == SKIPPED
        assert Transaction.objects.filter(status=TransactionStatus.VOIDED).count() == 0
        other.execute("SELECT pg_advisory_unlock(%s)", [lock_key("expire_pending")])
    assert run_job(job("expire_pending")) == DONE_RUN
    assert_expired_once(expired_pendings, alice_account)


@pytest.mark.django_db(transaction=True)
def test_old_idempotency_keys_are_purged_and_young_ones_kept( alice, settings):
    settings.FLUX_IDEMPOTENCY_TTL_HOURS = 48
    now = timezone.now()
    for key, age in (("old", timedelta(hours=49)), ("young", timedelta(hours=47))):
        IdempotencyKey.objects.create(user=alice, key=key, fingerprint="f", response_status=201,
                                      response_body={}, created_at=now - age)
    assert run_job(job("purge_idempotency_keys")) == DONE_RUN
    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["young"]
    assert run_job(job("purge_idempotency_keys")) == DONE_RUN
    assert IdempotencyKey.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_failing_job_is_reported_and_the_others_still_run(caplog):
    ran = []

    def broken() -> int:
        raise RuntimeError("the job broke")

    jobs = [Job("broken", broken, 3600), Job("fine", lambda: ran.append(1) or 1, 3600)]
    stop = threading.Event()
    thread = threading.Thread(target=run_forever, args=(jobs, stop), kwargs={"tick_seconds": 0.05})
    thread.start()
    try:
        for _ in range(100):
            if ran:
                break
            threading.Event().wait(0.05)
    finally:
        stop.set()
        thread.join(timeout=10)
    assert not thread.is_alive()
    assert ran == [1]  # once: its next turn is an hour away
    assert "job broken failed" in caplog.text and "the job broke" in caplog.text
    assert run_job(jobs[0]) == FAILED


@pytest.mark.django_db(transaction=True)
def test_run_scheduler_once_runs_every_job(expired_pendings, alice_account):
    out = StringIO()
    call_command("run_scheduler", "--once", stdout=out)
    assert out.getvalue().splitlines() == ["expire_pending: done", "purge_idempotency_keys: done",
                                           "clearing_at_cutoff: done", "verify_audit_chain: done"]
    assert_expired_once(expired_pendings, alice_account)
