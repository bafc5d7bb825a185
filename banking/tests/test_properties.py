"""The ledger's invariants under random sequences of operations (hypothesis, stateful).

Whatever customers and staff do, in whatever order: the entries sum to zero, each stored balance
is the sum of its entries, each `held` is the sum of its pending holds, no customer account goes
below its overdraft, every posted transaction balances, and a refused operation changes nothing.
Each example runs inside a savepoint that is rolled back, so examples start from the same bank."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.db.models import Count, Sum
from hypothesis import HealthCheck, event
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from banking.iban import generate_flux_iban
from banking.models import LIVE_REVERSAL_STATUSES, Account, Entry, Transaction, TransactionKind, TransactionStatus
from banking.services import (
    account_freeze,
    account_unfreeze,
    deposit_create,
    pending_expire,
    transaction_approve,
    transaction_reject,
    transaction_reverse,
    transfer_batch_create,
    transfer_create,
    withdrawal_create,
)
from banking.services.batches import BatchItem
from banking.tests.support import at_once
from core.errors import ApplicationError

ACCOUNTS = 4
EXTERNAL_IBANS = ["DE89370400440532013000", "NL91ABNA0417164300"]
# Small thresholds so that random amounts often need four eyes.
APPROVAL_THRESHOLD = Decimal("300.00")
CASH_THRESHOLD = Decimal("200.00")

amounts = st.one_of(
    st.integers(min_value=1, max_value=500_00),
    st.sampled_from([1, 199_99, 200_00, 299_99, 300_00, 1_000_00]),
)
picks = st.integers(min_value=0, max_value=10_000)  # an index into whatever exists, modulo its length


class LedgerMachine(RuleBasedStateMachine):
    """Operations on a small bank of four customer accounts. The cast (customers, two staff
    members, accounts) is created once per test and set on the class before it runs."""

    staff: list
    account_ids: list[int]
    owners: dict[int, object]
    snapshot: Callable[[], dict]  # conftest's ledger snapshot
    totals: Counter  # outcomes over all examples, to check the machine reaches what it should

    def __init__(self) -> None:
        super().__init__()
        self._atomic = transaction.atomic()
        self._atomic.__enter__()
        self.outcomes = LedgerMachine.totals

    def teardown(self) -> None:
        transaction.set_rollback(True)
        self._atomic.__exit__(None, None, None)

    # --- helpers ------------------------------------------------------------------------------

    def attempt(self, service: Callable[..., object], **arguments) -> None:
        """Call one service; if it is refused, nothing may have changed."""
        before = self.snapshot()
        try:
            result = service(**arguments)
        except ApplicationError as exc:
            self.outcomes[f"{service.__name__}: {exc.code}"] += 1
            event(f"{service.__name__}: {exc.code}")
            assert self.snapshot() == before, f"{service.__name__} refused with {exc.code} but the ledger changed"
        else:
            self.outcomes[f"{service.__name__}: {getattr(result, 'status', 'done')}"] += 1

    def account(self, pick: int) -> Account:
        return Account.objects.get(pk=self.account_ids[pick % len(self.account_ids)])

    def pick_transaction(self, pick: int, **filters) -> Transaction | None:
        ids = list(Transaction.objects.filter(**filters).order_by("pk").values_list("pk", flat=True))
        return Transaction.objects.get(pk=ids[pick % len(ids)]) if ids else None

    def pick_pending_first(self, pick: int) -> Transaction | None:
        """Mostly a pending transaction; any transaction when none is pending (to be refused)."""
        return self.pick_transaction(pick, status=TransactionStatus.PENDING) or self.pick_transaction(pick)

    # --- rules --------------------------------------------------------------------------------

    @initialize(amount=st.integers(min_value=300_00, max_value=1_000_00), by_staff=st.booleans())
    def start_with_a_pending_transfer(self, amount: int, by_staff: bool) -> None:
        """Every walk starts with something to decide (swarm testing may switch off the rules that
        create pending transactions)."""
        source, destination = self.account(0), self.account(2)
        self.attempt(
            transfer_create,
            initiator=self.staff[0] if by_staff else self.owners[source.pk],
            source_account_id=source.pk,
            destination_iban=destination.iban,
            amount=amount,
        )

    @rule(source=picks, destination=picks, amount=amounts, by_staff=st.booleans())
    def transfer(self, source: int, destination: int, amount: int, by_staff: bool) -> None:
        account = self.account(source)
        self.attempt(
            transfer_create,
            initiator=self.staff[source % 2] if by_staff else self.owners[account.pk],
            source_account_id=account.pk,
            destination_iban=self.account(destination).iban,  # sometimes the same account: refused
            amount=amount,
        )

    @rule(source=picks, destination=picks, amount=amounts, payer=picks)
    def transfer_at_once(self, source: int, destination: int, amount: int, payer: int) -> None:
        """As POST transfers/ runs a transfer: in one PostgreSQL call when it is plain
        (services.transfer_posted_at_once), else, with nothing written by the call, transfer_create;
        sometimes from the other customer's account (the call leaves it; not_found)."""
        account = self.account(source)
        initiator = self.owners[account.pk if payer % 4 else self.account(source + 2).pk]
        destination_iban = self.account(destination).iban
        before = self.snapshot()
        answer = at_once(initiator, account, destination_iban, amount) if connection.vendor == "postgresql" else None
        if answer is not None:
            txn = Transaction.objects.get(pk=answer["id"])
            assert (txn.status, txn.source_id, txn.amount) == (TransactionStatus.POSTED, account.pk, amount)
            self.outcomes["transfer_at_once: posted at once"] += 1
            return
        assert self.snapshot() == before, "the call left a transfer to the Python path but changed the ledger"
        self.attempt(transfer_create, initiator=initiator, source_account_id=account.pk,
                     destination_iban=destination_iban, amount=amount)

    @rule(source=picks, external=st.sampled_from([*EXTERNAL_IBANS, "DE89370400440532013001", "unknown"]),
          amount=amounts)
    def transfer_out(self, source: int, external: str, amount: int) -> None:
        account = self.account(source)
        self.attempt(
            transfer_create,
            initiator=self.owners[account.pk],
            source_account_id=account.pk,
            # An unknown Flux IBAN is refused (unknown_account), a bad check digit too (invalid_iban).
            destination_iban=generate_flux_iban() if external == "unknown" else external,
            amount=amount,
        )

    @rule(
        items=st.lists(st.tuples(picks, picks, amounts), min_size=1, max_size=6),
        by_staff=st.booleans(),
        atomic=st.booleans(),
    )
    def transfer_batch(self, items: list[tuple[int, int, int]], by_staff: bool, atomic: bool) -> None:
        """A batch gives each item exactly the outcome the same transfers made one by one would have
        (checked against them, run first and rolled back); refused atomic batches change nothing."""
        initiator = self.staff[0] if by_staff else self.owners[self.account(items[0][0]).pk]
        batch = [
            BatchItem(source_account_id=self.account(source).pk, destination_iban=self.account(destination).iban,
                      amount=amount)
            for source, destination, amount in items
        ]
        one_by_one = []
        with transaction.atomic():
            for item in batch:
                try:
                    one_by_one.append(transfer_create(
                        initiator=initiator, source_account_id=item.source_account_id,
                        destination_iban=item.destination_iban, amount=item.amount,
                    ).status)
                except ApplicationError as exc:
                    one_by_one.append(exc.code)
            transaction.set_rollback(True)
        before = self.snapshot()
        try:
            outcomes = transfer_batch_create(initiator=initiator, items=batch, atomic=atomic)
        except ApplicationError as exc:
            assert exc.code == "batch_refused" and atomic, exc
            assert [item["index"] for item in exc.items] == [
                index for index, outcome in enumerate(one_by_one) if outcome not in ("posted", "pending")]
            assert self.snapshot() == before, "a refused atomic batch changed the ledger"
            self.outcomes["transfer_batch_create: batch_refused"] += 1
            return
        assert [o.transaction.status if o.transaction else o.error.code for o in outcomes] == one_by_one
        for outcome in one_by_one:
            self.outcomes[f"transfer_batch_create: {outcome}"] += 1

    @rule(target_account=picks, amount=amounts, teller=picks)
    def deposit(self, target_account: int, amount: int, teller: int) -> None:
        account_id = self.account(target_account).pk
        self.attempt(deposit_create, initiator=self.staff[teller % 2], account_id=account_id, amount=amount)

    @rule(source=picks, amount=amounts, teller=picks)
    def withdraw(self, source: int, amount: int, teller: int) -> None:
        account_id = self.account(source).pk
        self.attempt(withdrawal_create, initiator=self.staff[teller % 2], account_id=account_id, amount=amount)

    @rule(pick=picks, decider=picks)
    def approve(self, pick: int, decider: int) -> None:
        txn = self.pick_pending_first(pick)
        if txn is not None:
            self.attempt(transaction_approve, approver=self.staff[decider % 2], transaction_id=txn.pk)

    @rule(pick=picks, decider=picks, reason=st.sampled_from(["Unusual amount", "Unusual amount", ""]))
    def reject(self, pick: int, decider: int, reason: str) -> None:
        txn = self.pick_pending_first(pick)
        if txn is not None:
            self.attempt(transaction_reject, approver=self.staff[decider % 2], transaction_id=txn.pk, reason=reason)

    @rule(pick=picks, actor=picks)
    def reverse(self, pick: int, actor: int) -> None:
        txn = self.pick_transaction(pick)
        if txn is not None:
            self.attempt(transaction_reverse, actor=self.staff[actor % 2], transaction_id=txn.pk, reason="Correction")

    @rule(target_account=picks, freeze=st.booleans())
    def freeze_or_unfreeze(self, target_account: int, freeze: bool) -> None:
        account_id = self.account(target_account).pk
        change = account_freeze if freeze else account_unfreeze
        self.attempt(change, actor=self.staff[0], account_id=account_id, reason="Compliance check")

    @precondition(lambda self: Transaction.objects.filter(status=TransactionStatus.PENDING).exists())
    @rule()
    def expire(self) -> None:
        latest = Transaction.objects.filter(status=TransactionStatus.PENDING).latest("pk")
        pending_expire(now=latest.expires_at)

    # --- invariants ---------------------------------------------------------------------------

    @invariant()
    def entries_sum_to_zero(self) -> None:
        assert (Entry.objects.aggregate(total=Sum("amount"))["total"] or 0) == 0
        assert (Account.objects.aggregate(total=Sum("balance"))["total"] or 0) == 0  # every account opened at 0

    @invariant()
    def balances_and_holds_match_the_ledger(self) -> None:
        entry_totals = dict(
            Entry.objects.values("account").annotate(total=Sum("amount")).values_list("account", "total")
        )
        hold_totals = dict(
            Transaction.objects.filter(status=TransactionStatus.PENDING)
            .values("source")
            .annotate(total=Sum("hold_amount"))
            .values_list("source", "total")
        )
        for account in Account.objects.all():
            assert account.balance == entry_totals.get(account.pk, 0), account
            assert account.held == hold_totals.get(account.pk, 0), account
            if not account.is_internal:
                assert account.balance - account.held >= -account.overdraft_limit, account

    @invariant()
    def transactions_are_consistent(self) -> None:
        legs = {
            txn: (total, count)
            for txn, total, count in Entry.objects.values("transaction")
            .annotate(total=Sum("amount"), count=Count("pk"))
            .values_list("transaction", "total", "count")
        }
        for txn in Transaction.objects.all():
            if txn.status == TransactionStatus.POSTED:
                total, count = legs[txn.pk]
                assert total == 0 and count >= 2, txn
            else:  # pending, rejected and expired transactions never post
                assert txn.pk not in legs, txn
            if txn.status == TransactionStatus.PENDING:
                assert txn.hold_amount in (0, txn.amount), txn

    @invariant()
    def reversed_at_most_once(self) -> None:
        """At most one pending or posted reversal per original, and a posted one negates it exactly."""
        standing = Counter(
            Transaction.objects.filter(kind=TransactionKind.REVERSAL, status__in=LIVE_REVERSAL_STATUSES)
            .values_list("reverses_id", flat=True)
        )
        assert all(count == 1 for count in standing.values()), standing
        for reversal in Transaction.objects.filter(kind=TransactionKind.REVERSAL, status=TransactionStatus.POSTED):
            original = dict(Entry.objects.filter(transaction_id=reversal.reverses_id).values_list("account", "amount"))
            negated = dict(Entry.objects.filter(transaction=reversal).values_list("account", "amount"))
            assert negated == {account: -amount for account, amount in original.items()}, reversal


@pytest.fixture
def bank(settings, agnes, sam, alice, bob, open_account, vault, clearing):
    """Two customers with two accounts each, one of them with an overdraft; two staff members."""
    settings.FLUX_APPROVAL_THRESHOLD = APPROVAL_THRESHOLD
    settings.FLUX_CASH_APPROVAL_THRESHOLD = CASH_THRESHOLD
    accounts = [
        open_account(alice, balance=2_000_00),
        open_account(alice, balance=50_00, overdraft_limit=100_00),
        open_account(bob, balance=800_00),
        open_account(bob, kind="savings"),
    ]
    assert len(accounts) == ACCOUNTS
    return {"staff": [agnes, sam], "accounts": accounts}


def test_ledger_invariants_hold_under_random_operations(bank, snapshot):
    LedgerMachine.snapshot = staticmethod(snapshot)
    LedgerMachine.totals = Counter()
    LedgerMachine.staff = bank["staff"]
    LedgerMachine.account_ids = [account.pk for account in bank["accounts"]]
    LedgerMachine.owners = {account.pk: account.customer for account in bank["accounts"]}

    run_state_machine_as_test(
        LedgerMachine,
        settings=hypothesis_settings(
            # derandomize fixes the seed, yet the walks still differ with what the process did
            # before (importing one more module is enough; the cause inside Hypothesis was not
            # pinned down). At 40 examples a rare outcome below was sometimes never reached; at
            # 80, over six different process histories, the rarest was reached 3 times or more.
            max_examples=80,
            stateful_step_count=30,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )

    # The walks really reached the interesting places, successes and refusals alike.
    seen = {outcome for outcome, count in LedgerMachine.totals.items() if count}
    if connection.vendor == "postgresql":
        assert "transfer_at_once: posted at once" in seen, LedgerMachine.totals
    assert {
        "transfer_create: posted",
        "transfer_create: pending",
        "transfer_create: insufficient_funds",
        "transfer_create: account_frozen",
        "transfer_batch_create: posted",
        "transfer_batch_create: pending",
        "transfer_batch_create: insufficient_funds",
        "transfer_batch_create: batch_refused",
        "deposit_create: pending",
        "withdrawal_create: posted",
        "transaction_approve: posted",
        "transaction_reject: rejected",
        "transaction_reverse: pending",
        "transaction_reverse: already_reversed",
        "account_freeze: frozen",
        "account_unfreeze: active",
    } <= seen, sorted(seen)
