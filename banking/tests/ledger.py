"""The ledger's state and invariants, as the tests check them: one snapshot of everything a money
movement may touch (to prove a refused operation changed nothing), and the invariants that hold
after any sequence of operations (each balance is the sum of its entries; all entries sum to zero)."""

from __future__ import annotations

from django.db.models import Sum

from audit.models import AuditEvent
from banking.models import BOOKED_STATUSES, Account, Entry, Transaction
from core.idempotency import STORED_REFUSAL_STATUSES
from core.models import IdempotencyKey


def ledger_snapshot() -> dict:
    """Everything an API request may touch: balances, holds and status of every account, every
    entry, every transaction's state, every audit event and every idempotency key that records an
    operation done. A refused request may leave its key behind holding the refusal (it is the
    answer a retry gets, core/idempotency.py), never a key of an operation done."""
    return {
        "accounts": {
            pk: rest
            for pk, *rest in Account.objects.values_list("pk", "balance", "held", "status", "closed_at")
        },
        "entries": list(Entry.objects.order_by("pk").values_list("pk", "account_id", "amount", "balance_after")),
        "transactions": list(
            Transaction.objects.order_by("pk").values_list(
                "pk", "status", "hold_amount", "posted_at", "decided_by_id", "decision_reason"
            )
        ),
        "audit_events": list(AuditEvent.objects.order_by("pk").values_list("pk", "action", "target_id")),
        "idempotency_keys": list(
            IdempotencyKey.objects.exclude(response_status__in=STORED_REFUSAL_STATUSES)
            .order_by("pk").values_list("pk", "user_id", "key", "response_status", "response_body")
        ),
    }


def assert_ledger_unchanged(before: dict) -> None:
    after = ledger_snapshot()
    for part in before:
        assert after[part] == before[part], f"{part} changed by a refused operation"


def assert_ledger_consistent() -> None:
    """Each account's stored balance equals the sum of its entries, and all entries sum to zero."""
    for account in Account.objects.all():
        total = Entry.objects.filter(account=account).aggregate(total=Sum("amount"))["total"] or 0
        assert account.balance == total, f"{account.iban}: balance {account.balance} != entries {total}"
    assert (Entry.objects.aggregate(total=Sum("amount"))["total"] or 0) == 0
    for txn in Transaction.objects.filter(status__in=BOOKED_STATUSES):
        assert sum(txn.entries.values_list("amount", flat=True)) == 0, txn


def assert_balanced(account: Account) -> None:
    """The stored balance is the sum of the account's entries."""
    total = sum(Entry.objects.filter(account=account).values_list("amount", flat=True))
    account.refresh_from_db()
    assert account.balance == total
