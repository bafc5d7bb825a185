"""Reversals and the account lifecycle (open, freeze, unfreeze, close) through the ledger services
(the append-only tables and the fixtures' agreement with the ledger: test_ledger_integrity.py).

Every refused operation is checked inside `unchanged()`: balances, holds, entries, transactions and
audit events are exactly as before."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from audit import actions
from audit.models import AuditEvent
from audit.tests.support import assert_audited, last_event
from banking.iban import is_flux_iban, parse_iban
from banking.models import Account, AccountKind, AccountStatus, Entry, Transaction, TransactionKind, TransactionStatus
from banking.services import (
    account_close,
    account_freeze,
    account_open,
    account_unfreeze,
    deposit_create,
    pending_expire,
    transaction_approve,
    transaction_reject,
    transaction_reverse,
    transfer_create,
    withdrawal_create,
)
from banking.tests.factories import EXTERNAL_IBAN, entries_of, fresh, pending_transfer
from banking.tests.ledger import assert_balanced
from core.testing.assertions import refused
from identity.tests.factories import AgentFactory


@pytest.fixture
def rich_account(open_account, alice, vault, clearing) -> Account:
    """Alice's second account, with 15000.00 EUR: enough to cross the approval threshold."""
    return open_account(alice, balance=15_000_00)


# --- Reversals --------------------------------------------------------------------------------
# Every reversal waits, pending, for a member of staff other than the one who asked for it.


def reverse_and_approve(*, requested_by, approved_by, original, reason: str = "Mistake"):
    reversal = transaction_reverse(actor=requested_by, transaction_id=original.pk, reason=reason)
    assert reversal.status == TransactionStatus.PENDING
    return transaction_approve(approver=approved_by, transaction_id=reversal.pk)


def test_a_reversal_waits_holding_the_debited_customer_then_negates_every_entry(
    alice, agnes, sam, alice_account, bob_account
):
    original = transfer_create(
        initiator=alice, source_account_id=alice_account.pk, destination_iban=bob_account.iban, amount=80_00
    )
    entries_before = Entry.objects.count()

    reversal = transaction_reverse(actor=agnes, transaction_id=original.pk, reason="Sent by mistake")

    # Pending: nothing posted, the amount held on bob's account (the side it will debit).
    assert reversal.kind == TransactionKind.REVERSAL and reversal.status == TransactionStatus.PENDING
    assert reversal.reverses_id == original.pk and reversal.amount == 80_00
    assert (reversal.source_id, reversal.destination_id) == (bob_account.pk, alice_account.pk)
    assert reversal.initiated_by == agnes and reversal.decided_by is None
    assert reversal.reference == f"Reversal of #{original.pk}: Sent by mistake"
    assert reversal.hold_amount == 80_00 and reversal.expires_at > timezone.now()
    assert Entry.objects.count() == entries_before
    assert (fresh(bob_account).balance, bob_account.held, bob_account.available) == (580_00, 80_00, 500_00)
    assert (fresh(alice_account).balance, alice_account.held) == (920_00, 0)
    event = last_event()
    assert_audited(event, actor=agnes, action=actions.TRANSACTION_PENDING, target_type="transaction",
                   target_id=reversal.pk)
    assert event.data["reverses"] == original.pk and event.data["reason"] == "Sent by mistake"
    assert event.data["kind"] == "reversal" and event.data["amount"] == "80.00"

    posted = transaction_approve(approver=sam, transaction_id=reversal.pk)

    assert posted.status == TransactionStatus.POSTED and posted.decided_by == sam
    original.refresh_from_db()
    assert original.status == TransactionStatus.POSTED
    assert list(original.reversals.all()) == [posted]
    originals = entries_of(original)
    reversed_entries = entries_of(posted)
    assert [(e.account_id, -e.amount, e.counterparty) for e in originals] == [
        (e.account_id, e.amount, e.counterparty) for e in reversed_entries
    ]
    assert sum(e.amount for e in reversed_entries) == 0
    assert (fresh(alice_account).balance, alice_account.held) == (1_000_00, 0)
    assert (fresh(bob_account).balance, bob_account.held) == (500_00, 0)
    assert {e.account_id: e.balance_after for e in reversed_entries} == {
        alice_account.pk: 1_000_00,
        bob_account.pk: 500_00,
    }
    assert_balanced(alice_account)
    assert_balanced(bob_account)
    approved, reversed_event = AuditEvent.objects.order_by("-pk")[:2][::-1]
    assert_audited(approved, actor=sam, action=actions.TRANSACTION_APPROVED, target_type="transaction",
                   target_id=reversal.pk)
    assert_audited(reversed_event, actor=sam, action=actions.TRANSACTION_REVERSED, target_type="transaction",
                   target_id=original.pk)
    assert reversed_event.data["reversal"] == reversal.pk and reversed_event.data["requested_by"] == agnes.pk


def test_an_agent_cannot_approve_the_reversal_of_her_own_withdrawal(agnes, sam, alice_account, vault, unchanged):
    """Finding 3: an agent reversed her own cash withdrawal alone, crediting the customer while she
    held the cash. Now the reversal waits and she cannot decide it; the customer gets nothing yet."""
    withdrawal = withdrawal_create(initiator=agnes, account_id=alice_account.pk, amount=300_00)
    assert withdrawal.status == TransactionStatus.POSTED and fresh(alice_account).balance == 700_00

    reversal = transaction_reverse(actor=agnes, transaction_id=withdrawal.pk, reason="Counted wrong")

    # The vault is debited by the reversal: nothing is held, and alice is not credited before approval.
    assert reversal.status == TransactionStatus.PENDING and reversal.hold_amount == 0
    assert (fresh(alice_account).balance, alice_account.held) == (700_00, 0)
    assert fresh(vault).held == 0
    with unchanged(), refused("permission_denied"):
        transaction_approve(approver=agnes, transaction_id=reversal.pk)
    with unchanged(), refused("permission_denied"):
        transaction_reject(approver=agnes, transaction_id=reversal.pk, reason="Never mind")

    transaction_approve(approver=sam, transaction_id=reversal.pk)

    assert fresh(alice_account).balance == 1_000_00
    assert_balanced(alice_account)
    assert_balanced(vault)


def test_a_supervisor_cannot_approve_his_own_reversal_either(sam, agnes, alice, alice_account, bob_account,
                                                              unchanged):
    original = transfer_create(
        initiator=alice, source_account_id=alice_account.pk, destination_iban=bob_account.iban, amount=1
    )
    reversal = transaction_reverse(actor=sam, transaction_id=original.pk, reason="One cent")

    assert reversal.status == TransactionStatus.PENDING  # whatever the amount, whoever asks
    with unchanged(), refused("permission_denied"):
        transaction_approve(approver=sam, transaction_id=reversal.pk)
    assert transaction_approve(approver=agnes, transaction_id=reversal.pk).status == TransactionStatus.POSTED


def test_rejecting_a_reversal_releases_its_hold_and_allows_a_new_one(agnes, sam, bob_account):
    deposit = deposit_create(initiator=agnes, account_id=bob_account.pk, amount=100_00)
    reversal = transaction_reverse(actor=sam, transaction_id=deposit.pk, reason="Counterfeit notes")
    assert (fresh(bob_account).balance, bob_account.held) == (600_00, 100_00)
    entries_before = Entry.objects.count()

    rejected = transaction_reject(approver=agnes, transaction_id=reversal.pk, reason="The notes are fine")

    assert rejected.status == TransactionStatus.REJECTED and rejected.decision_reason == "The notes are fine"
    assert (fresh(bob_account).balance, bob_account.held) == (600_00, 0)
    assert Entry.objects.count() == entries_before
    # A rejected reversal moved nothing, so it blocks nothing.
    again = transaction_reverse(actor=sam, transaction_id=deposit.pk, reason="Counterfeit after all")
    assert again.status == TransactionStatus.PENDING and fresh(bob_account).held == 100_00
    assert sorted(deposit.reversals.values_list("status", flat=True)) == ["pending", "rejected"]


def test_an_expired_reversal_allows_a_new_one(agnes, sam, alice, alice_account, bob_account):
    original = transfer_create(
        initiator=alice, source_account_id=alice_account.pk, destination_iban=bob_account.iban, amount=10_00
    )
    stale = transaction_reverse(actor=agnes, transaction_id=original.pk, reason="Mistake")
    assert pending_expire(now=stale.expires_at) == 1
    stale.refresh_from_db()
    assert stale.status == TransactionStatus.VOIDED and fresh(bob_account).held == 0

    posted = reverse_and_approve(requested_by=agnes, approved_by=sam, original=original, reason="Mistake, again")
    assert posted.status == TransactionStatus.POSTED and fresh(alice_account).balance == 1_000_00


def test_reversing_an_external_transfer_debits_clearing(alice, agnes, sam, alice_account, clearing):
    original = transfer_create(
        initiator=alice, source_account_id=alice_account.pk, destination_iban=EXTERNAL_IBAN, amount=70_00
    )
    reversal = transaction_reverse(actor=sam, transaction_id=original.pk, reason="Returned by the other bank")
    assert reversal.external_iban == EXTERNAL_IBAN and reversal.hold_amount == 0
    assert fresh(alice_account).balance == 930_00  # nothing back before the approval

    transaction_approve(approver=agnes, transaction_id=reversal.pk)

    assert fresh(alice_account).balance == 1_000_00 and fresh(clearing).balance == 0


def test_reversing_an_approved_transaction(alice, sam, agnes, rich_account, bob_account):
    txn = pending_transfer(alice, rich_account, bob_account)
    transaction_approve(approver=sam, transaction_id=txn.pk)

    reverse_and_approve(requested_by=agnes, approved_by=sam, original=txn, reason="Customer dispute")

    assert fresh(rich_account).balance == 15_000_00 and fresh(bob_account).balance == 500_00


def test_a_transaction_is_reversed_at_most_once(alice, agnes, sam, alice_account, bob_account, unchanged):
    original = transfer_create(
        initiator=alice, source_account_id=alice_account.pk, destination_iban=bob_account.iban, amount=10_00
    )
    reversal = transaction_reverse(actor=agnes, transaction_id=original.pk, reason="Mistake")

    # A pending reversal blocks a second one, as a posted one does.
    with unchanged(), refused("already_reversed") as refusal:
        transaction_reverse(actor=sam, transaction_id=original.pk, reason="Again")
    assert f"#{reversal.pk}" in refusal.value.message and "waiting" in refusal.value.message
    with unchanged(), refused("not_reversible"):
        transaction_reverse(actor=sam, transaction_id=reversal.pk, reason="Undo the undo")

    transaction_approve(approver=sam, transaction_id=reversal.pk)
    with unchanged(), refused("already_reversed") as refusal:
        transaction_reverse(actor=sam, transaction_id=original.pk, reason="Again")
    assert f"reversed by #{reversal.pk}" in refusal.value.message
    with unchanged(), refused("not_reversible"):
        transaction_reverse(actor=agnes, transaction_id=reversal.pk, reason="Undo the undo")


def test_the_database_refuses_a_second_standing_reversal(alice, agnes, alice_account, bob_account):
    """The partial unique constraint holds "at most once" even for a write that skips the service."""
    original = transfer_create(
        initiator=alice, source_account_id=alice_account.pk, destination_iban=bob_account.iban, amount=10_00
    )
    reversal = transaction_reverse(actor=agnes, transaction_id=original.pk, reason="Mistake")
    copy = {field: getattr(reversal, field) for field in (
        "kind", "amount", "currency", "source_id", "destination_id", "initiated_by_id", "created_at", "reverses_id",
    )}

    for status in (TransactionStatus.PENDING, TransactionStatus.POSTED):
        with pytest.raises(IntegrityError), transaction.atomic():
            Transaction.objects.create(status=status, **copy)
    for status in (TransactionStatus.REJECTED, TransactionStatus.VOIDED):  # these stand for nothing
        with transaction.atomic():
            Transaction.objects.create(status=status, **copy)
            transaction.set_rollback(True)


def test_only_posted_transactions_can_be_reversed(alice, sam, agnes, rich_account, bob_account, unchanged):
    pending = pending_transfer(alice, rich_account, bob_account)
    with unchanged(), refused("not_posted"):
        transaction_reverse(actor=agnes, transaction_id=pending.pk, reason="Pending")

    transaction_reject(approver=sam, transaction_id=pending.pk, reason="No")
    with unchanged(), refused("not_posted"):
        transaction_reverse(actor=agnes, transaction_id=pending.pk, reason="Rejected")

    expired = pending_transfer(alice, rich_account, bob_account, at=timezone.now() - timedelta(days=8))
    pending_expire()
    with unchanged(), refused("not_posted"):
        transaction_reverse(actor=agnes, transaction_id=expired.pk, reason="Expired")


def test_reversal_that_would_overdraw_is_refused(agnes, sam, bob, alice_account, bob_account, unchanged):
    deposit = deposit_create(initiator=agnes, account_id=bob_account.pk, amount=100_00)
    transfer_create(initiator=bob, source_account_id=bob_account.pk, destination_iban=alice_account.iban, amount=550_00)
    assert fresh(bob_account).balance == 50_00

    with unchanged(), refused("insufficient_funds"):
        transaction_reverse(actor=sam, transaction_id=deposit.pk, reason="Counterfeit notes")


def test_the_held_amount_cannot_leave_while_the_reversal_waits(agnes, sam, bob, alice_account, bob_account,
                                                               unchanged):
    deposit = deposit_create(initiator=agnes, account_id=bob_account.pk, amount=100_00)
    reversal = transaction_reverse(actor=sam, transaction_id=deposit.pk, reason="Counterfeit notes")

    with unchanged(), refused("insufficient_funds"):
        transfer_create(initiator=bob, source_account_id=bob_account.pk, destination_iban=alice_account.iban,
                        amount=500_01)
    transaction_approve(approver=agnes, transaction_id=reversal.pk)
    assert (fresh(bob_account).balance, bob_account.held) == (500_00, 0)


def test_approving_a_reversal_checks_the_accounts_again(alice, agnes, sam, alice_account, bob_account, unchanged):
    original = transfer_create(
        initiator=alice, source_account_id=alice_account.pk, destination_iban=bob_account.iban, amount=10_00
    )
    reversal = transaction_reverse(actor=agnes, transaction_id=original.pk, reason="Mistake")
    account_freeze(actor=sam, account_id=alice_account.pk, reason="Investigation")

    with unchanged(), refused("account_frozen"):
        transaction_approve(approver=sam, transaction_id=reversal.pk)

    account_unfreeze(actor=sam, account_id=alice_account.pk, reason="Cleared")
    assert transaction_approve(approver=sam, transaction_id=reversal.pk).status == TransactionStatus.POSTED


def test_an_agent_approves_reversals_up_to_her_limit(settings, alice, agnes, sam, rich_account, bob_account,
                                                    unchanged):
    settings.FLUX_AGENT_APPROVAL_LIMIT = Decimal("5000.00")
    big = pending_transfer(alice, rich_account, bob_account)  # 10000.00
    transaction_approve(approver=sam, transaction_id=big.pk)
    reversal = transaction_reverse(actor=sam, transaction_id=big.pk, reason="Customer dispute")
    other_agent = AgentFactory()

    with unchanged(), refused("approval_limit_exceeded"):
        transaction_approve(approver=other_agent, transaction_id=reversal.pk)

    small = transfer_create(
        initiator=alice, source_account_id=rich_account.pk, destination_iban=bob_account.iban, amount=50_00
    )
    assert reverse_and_approve(requested_by=sam, approved_by=other_agent, original=small).status == "posted"


def test_reversal_touching_a_frozen_account_is_refused(alice, agnes, sam, alice_account, bob_account, unchanged):
    original = transfer_create(
        initiator=alice, source_account_id=alice_account.pk, destination_iban=bob_account.iban, amount=10_00
    )
    account_freeze(actor=agnes, account_id=bob_account.pk, reason="Investigation")

    with unchanged(), refused("account_frozen"):
        transaction_reverse(actor=sam, transaction_id=original.pk, reason="Mistake")


def test_reversal_rules_for_people_and_reasons(alice, agnes, alice_account, bob_account, unchanged):
    original = transfer_create(
        initiator=alice, source_account_id=alice_account.pk, destination_iban=bob_account.iban, amount=10_00
    )

    with unchanged(), refused("permission_denied"):
        transaction_reverse(actor=alice, transaction_id=original.pk, reason="Mine")
    with unchanged(), refused("validation_error"):
        transaction_reverse(actor=agnes, transaction_id=original.pk, reason=" ")
    with unchanged(), refused("not_found"):
        transaction_reverse(actor=agnes, transaction_id=10**9, reason="Missing")


# --- Account lifecycle ------------------------------------------------------------------------


def test_account_open_gives_a_valid_flux_iban_and_is_audited(sam, alice):
    account = account_open(actor=sam, customer_id=alice.pk, kind="savings", currency="gbp", overdraft_limit=50_00)

    assert is_flux_iban(parse_iban(account.iban))
    assert (account.kind, account.currency, account.customer, account.overdraft_limit) == (
        AccountKind.SAVINGS,
        "GBP",
        alice,
        50_00,
    )
    assert (account.balance, account.held, account.status) == (0, 0, AccountStatus.ACTIVE)
    event = last_event()
    assert_audited(event, actor=sam, action=actions.ACCOUNT_OPENED, target_type="account", target_id=account.pk)
    assert event.data["iban"] == account.iban and event.data["overdraft_limit"] == "50.00"


def test_account_open_defaults_to_euro(agnes, alice):
    assert account_open(actor=agnes, customer_id=alice.pk, kind="checking").currency == "EUR"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"kind": "cash"}, "kind"),
        ({"kind": "clearing"}, "kind"),
        ({"currency": "XXX"}, "currency"),
        ({"overdraft_limit": -1}, "overdraft_limit"),
        ({"customer_id": 10**9}, "customer"),
    ],
)
def test_account_open_validates(sam, alice, unchanged, changes, field):
    arguments = {"customer_id": alice.pk, "kind": "checking"} | changes

    # A supervisor, who may ask for an overdraft at all: the negative one is then a validation error.
    with unchanged(), refused("validation_error") as excinfo:
        account_open(actor=sam, **arguments)
    assert field in excinfo.value.fields


def test_accounts_are_for_customers_and_opened_by_staff(agnes, alice, sam, unchanged):
    with unchanged(), refused("validation_error"):
        account_open(actor=agnes, customer_id=sam.pk, kind="checking")
    with unchanged(), refused("permission_denied"):
        account_open(actor=alice, customer_id=alice.pk, kind="checking")


def test_freeze_and_unfreeze(agnes, sam, alice_account, unchanged):
    frozen = account_freeze(actor=agnes, account_id=alice_account.pk, reason="Lost card")

    assert frozen.status == AccountStatus.FROZEN == fresh(alice_account).status
    event = last_event()
    assert_audited(event, actor=agnes, action=actions.ACCOUNT_FROZEN, target_type="account",
                   target_id=alice_account.pk)
    assert event.data == {"iban": alice_account.iban, "reason": "Lost card", "from": "active", "to": "frozen"}
    with unchanged(), refused("account_frozen"):
        account_freeze(actor=sam, account_id=alice_account.pk, reason="Again")

    account_unfreeze(actor=sam, account_id=alice_account.pk, reason="Card found")

    assert fresh(alice_account).status == AccountStatus.ACTIVE
    assert_audited(last_event(), actor=sam, action=actions.ACCOUNT_UNFROZEN, target_type="account",
                   target_id=alice_account.pk)
    with unchanged(), refused("account_not_frozen"):
        account_unfreeze(actor=sam, account_id=alice_account.pk, reason="Again")


def test_lifecycle_needs_staff_a_reason_and_a_customer_account(alice, agnes, alice_account, vault, unchanged):
    for change in (account_freeze, account_unfreeze, account_close):
        with unchanged(), refused("permission_denied"):
            change(actor=alice, account_id=alice_account.pk, reason="Mine")
        with unchanged(), refused("validation_error"):
            change(actor=agnes, account_id=alice_account.pk, reason="")
        with unchanged(), refused("not_found"):
            change(actor=agnes, account_id=vault.pk, reason="The bank's own")
        with unchanged(), refused("not_found"):
            change(actor=agnes, account_id=10**9, reason="Missing")


def test_close_only_an_empty_account(agnes, alice, alice_account, unchanged):
    with unchanged(), refused("account_not_empty"):
        account_close(actor=agnes, account_id=alice_account.pk, reason="Moving abroad")

    withdrawal_create(initiator=agnes, account_id=alice_account.pk, amount=1_000_00)
    closed = account_close(actor=agnes, account_id=alice_account.pk, reason="Moving abroad")

    assert closed.status == AccountStatus.CLOSED and closed.closed_at is not None
    assert fresh(alice_account).status == AccountStatus.CLOSED
    assert_audited(last_event(), actor=agnes, action=actions.ACCOUNT_CLOSED, target_type="account",
                   target_id=alice_account.pk)


def test_close_refuses_an_account_with_a_negative_balance(agnes, alice, open_account, bob_account, unchanged):
    account = open_account(alice, overdraft_limit=100_00)
    transfer_create(initiator=agnes, source_account_id=account.pk, destination_iban=bob_account.iban, amount=10_00)

    with unchanged(), refused("account_not_empty"):
        account_close(actor=agnes, account_id=account.pk, reason="Debt")


def test_close_refuses_an_account_with_a_hold(settings, agnes, alice, open_account, unchanged):
    settings.FLUX_CASH_APPROVAL_THRESHOLD = Decimal("50.00")
    account = open_account(alice, overdraft_limit=100_00)
    withdrawal_create(initiator=agnes, account_id=account.pk, amount=60_00)
    assert (fresh(account).balance, account.held) == (0, 60_00)

    with unchanged(), refused("account_not_empty"):
        account_close(actor=agnes, account_id=account.pk, reason="Customer request")


def test_closed_is_final(agnes, sam, alice, open_account, alice_account, unchanged):
    account = open_account(alice)
    account_freeze(actor=agnes, account_id=account.pk, reason="Check")
    account_close(actor=agnes, account_id=account.pk, reason="Customer request")

    with unchanged():
        for change in (account_freeze, account_unfreeze, account_close):
            with refused("account_closed"):
                change(actor=sam, account_id=account.pk, reason="Reopen")
        for operation in (deposit_create, withdrawal_create):
            with refused("account_closed"):
                operation(initiator=agnes, account_id=account.pk, amount=1_00)
        with refused("account_closed"):
            transfer_create(
                initiator=alice, source_account_id=alice_account.pk, destination_iban=account.iban, amount=1_00
            )
