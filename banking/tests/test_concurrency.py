"""Concurrent money movements on real PostgreSQL: row locks taken in ascending pk order must
neither lose an update nor deadlock, and four-eyes decisions and reversals happen at most once.

Each worker thread has its own database connection (Django connections are per thread) and
closes it when done. Skipped on SQLite, which serialises writers instead of locking rows."""

from __future__ import annotations

import random
import threading
from collections import Counter
from collections.abc import Callable

import pytest
from django.db import connection
from django.db.models import Sum

from banking.models import Account, Entry, Transaction, TransactionKind, TransactionStatus
from banking.services import transaction_approve, transaction_reverse, transfer_create
from banking.tests.support import at_once
from core.errors import ApplicationError
from identity.tests.factories import SupervisorFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

THREADS = 8


@pytest.fixture(autouse=True)
def postgresql_only(db):
    if connection.vendor != "postgresql":
        pytest.skip("concurrency tests need PostgreSQL row locks (set DATABASE_URL)")


def run_in_threads(work: Callable[[int], object], count: int = THREADS) -> tuple[list, list[BaseException]]:
    """Run `work(i)` in `count` threads released together; return results and unexpected errors.
    An ApplicationError is a result (a refusal), anything else is an error."""
    barrier = threading.Barrier(count)
    results: list = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def target(index: int) -> None:
        try:
            barrier.wait(timeout=30)
            outcome = work(index)
            with lock:
                results.append(outcome)
        except BaseException as exc:  # noqa: BLE001 - every escape is reported by the test
            with lock:
                errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=target, args=(i,), name=f"worker-{i}") for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a worker is stuck (deadlock?)"
    return results, errors


def assert_ledger_consistent(accounts: list[Account]) -> None:
    assert Entry.objects.aggregate(total=Sum("amount"))["total"] == 0
    for account in Account.objects.all():
        entries = Entry.objects.filter(account=account).aggregate(total=Sum("amount"))["total"] or 0
        assert account.balance == entries, account
        if not account.is_internal:
            assert account.balance - account.held >= -account.overdraft_limit, account
    for txn in Transaction.objects.filter(status=TransactionStatus.POSTED):
        assert sum(txn.entries.values_list("amount", flat=True)) == 0, txn


def test_concurrent_transfers_conserve_money_and_never_deadlock(agnes, alice, bob, open_account):
    accounts = [
        open_account(alice, balance=2_000_00),
        open_account(alice, balance=30_00, overdraft_limit=50_00),  # drains quickly, into its overdraft
        open_account(bob, balance=1_500_00),
        open_account(bob, balance=10_00),  # drains quickly
        open_account(bob, balance=800_00, overdraft_limit=200_00),
    ]
    owners = {account.pk: account.customer for account in accounts}
    total_before = sum(account.balance for account in accounts)
    transfers_per_thread = 40

    def work(index: int) -> Counter:
        rng = random.Random(index)
        outcomes: Counter = Counter()
        for _ in range(transfers_per_thread):
            source, destination = rng.sample(accounts, 2)
            initiator = agnes if rng.random() < 0.3 else owners[source.pk]
            amount = rng.randint(1, 300_00)
            # Half as POST transfers/ makes them: in one PostgreSQL call when plain (a customer's,
            # funds available), else left, untouched, to transfer_create.
            if rng.random() < 0.5 and at_once(initiator, source, destination.iban, amount) is not None:
                outcomes["posted"] += 1
                outcomes["posted at once"] += 1
                continue
            try:
                transfer_create(
                    initiator=initiator,
                    source_account_id=source.pk,
                    destination_iban=destination.iban,
                    amount=amount,
                )
                outcomes["posted"] += 1
            except ApplicationError as exc:
                outcomes[exc.code] += 1
        return outcomes

    results, errors = run_in_threads(work)

    assert errors == []
    outcomes = sum(results, Counter())
    at_once_count = outcomes.pop("posted at once", 0)
    assert outcomes.total() == THREADS * transfers_per_thread
    assert set(outcomes) <= {"posted", "insufficient_funds"}
    assert outcomes["posted"] > 0 and outcomes["insufficient_funds"] > 0 and at_once_count > 0
    posted = Transaction.objects.filter(kind=TransactionKind.TRANSFER, status=TransactionStatus.POSTED)
    assert posted.count() == outcomes["posted"]
    assert sum(Account.objects.filter(pk__in=[a.pk for a in accounts]).values_list("balance", flat=True)) == (
        total_before
    )
    assert_ledger_consistent(accounts)


def test_crossing_transfers_between_two_accounts_do_not_deadlock(alice, bob, open_account):
    """Half the threads send A -> B while the other half send B -> A: the classic deadlock if locks
    were taken in argument order instead of pk order."""
    a = open_account(alice, balance=5_000_00)
    b = open_account(bob, balance=5_000_00)

    def work(index: int) -> int:
        source, destination, owner = (a, b, alice) if index % 2 else (b, a, bob)
        for turn in range(25):
            if turn % 2:  # every other one in one PostgreSQL call, as POST transfers/ makes it
                assert at_once(owner, source, destination.iban, 1_00) is not None
                continue
            transfer_create(
                initiator=owner, source_account_id=source.pk, destination_iban=destination.iban, amount=1_00
            )
        return 25

    results, errors = run_in_threads(work)

    assert errors == []
    a.refresh_from_db()
    b.refresh_from_db()
    assert a.balance == b.balance == 5_000_00  # as many 1.00 transfers each way
    assert_ledger_consistent([a, b])


def test_concurrent_approvals_post_exactly_once(alice, open_account, bob):
    source = open_account(alice, balance=20_000_00)
    destination = open_account(bob)
    pending = transfer_create(
        initiator=alice, source_account_id=source.pk, destination_iban=destination.iban, amount=15_000_00
    )
    approvers = [SupervisorFactory() for _ in range(THREADS)]

    def work(index: int) -> str:
        try:
            transaction_approve(approver=approvers[index], transaction_id=pending.pk)
        except ApplicationError as exc:
            return exc.code
        return "approved"

    results, errors = run_in_threads(work)

    assert errors == []
    assert sorted(results) == ["approved"] + ["not_pending"] * (THREADS - 1)
    pending.refresh_from_db()
    assert pending.status == TransactionStatus.POSTED and pending.decided_by in approvers
    assert pending.entries.count() == 2
    source.refresh_from_db()
    destination.refresh_from_db()
    assert (source.balance, source.held, destination.balance) == (5_000_00, 0, 15_000_00)
    assert_ledger_consistent([source, destination])


def test_concurrent_reversals_reverse_exactly_once(alice, bob, open_account):
    source = open_account(alice, balance=1_000_00)
    destination = open_account(bob)
    original = transfer_create(
        initiator=alice, source_account_id=source.pk, destination_iban=destination.iban, amount=400_00
    )
    staff = [SupervisorFactory() for _ in range(THREADS)]

    def work(index: int) -> str:
        try:
            transaction_reverse(actor=staff[index], transaction_id=original.pk, reason=f"Dispute {index}")
        except ApplicationError as exc:
            return exc.code
        return "requested"

    results, errors = run_in_threads(work)

    assert errors == []
    assert sorted(results) == ["already_reversed"] * (THREADS - 1) + ["requested"]
    reversal = Transaction.objects.get(reverses=original)
    assert reversal.status == TransactionStatus.PENDING
    source.refresh_from_db()
    destination.refresh_from_db()
    assert (source.balance, destination.balance, destination.held) == (600_00, 400_00, 400_00)
    approver = next(member for member in staff if member != reversal.initiated_by)
    transaction_approve(approver=approver, transaction_id=reversal.pk)
    source.refresh_from_db()
    destination.refresh_from_db()
    assert (source.balance, destination.balance, destination.held) == (1_000_00, 0, 0)
    assert_ledger_consistent([source, destination])


def test_spending_races_with_an_approval(agnes, sam, alice, bob, open_account):
    """An approval and many transfers compete for the same account: the hold protects the pending
    amount, so the approval always finds its money and nobody overdraws."""
    source = open_account(alice, balance=12_000_00)
    destination = open_account(bob)
    pending = transfer_create(
        initiator=alice, source_account_id=source.pk, destination_iban=destination.iban, amount=10_000_00
    )

    def work(index: int) -> Counter:
        outcomes: Counter = Counter()
        if index == 0:
            transaction_approve(approver=sam, transaction_id=pending.pk)
            outcomes["approved"] += 1
            return outcomes
        for _ in range(10):
            try:
                transfer_create(
                    initiator=alice, source_account_id=source.pk, destination_iban=destination.iban, amount=50_00
                )
                outcomes["posted"] += 1
            except ApplicationError as exc:
                outcomes[exc.code] += 1
        return outcomes

    results, errors = run_in_threads(work)

    assert errors == []
    outcomes = sum(results, Counter())
    assert outcomes["approved"] == 1 and outcomes["posted"] == 40  # exactly the 2000.00 not held
    assert set(outcomes) == {"approved", "posted", "insufficient_funds"}
    source.refresh_from_db()
    assert (source.balance, source.held) == (0, 0)
    assert_ledger_consistent([source, destination])
