"""Cash at the counter, approvals (approve and reject) and the expiry of pending transactions,
through the ledger services.

Every refused operation is checked inside `unchanged()`: balances, holds, entries, transactions and
audit events are exactly as before."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from audit import actions
from audit.models import AuditEvent
from audit.tests.support import assert_audited, last_event
from banking.models import Account, Entry, TransactionKind, TransactionStatus
from banking.services import (
    account_freeze,
    deposit_create,
    pending_expire,
    transaction_approve,
    transaction_reject,
    transfer_create,
    withdrawal_create,
)
from banking.services.movements import CASH_COUNTERPARTY
from banking.tests.factories import entries_of, fresh, pending_transfer
from banking.tests.ledger import assert_balanced
from core.testing.assertions import refused


@pytest.fixture
def rich_account(open_account, alice, vault, clearing) -> Account:
    """Alice's second account, with 15000.00 EUR: enough to cross the approval threshold."""
    return open_account(alice, balance=15_000_00)


# --- Cash at the counter ----------------------------------------------------------------------


def test_cash_deposit_credits_the_customer_and_debits_the_vault(agnes, alice_account, vault):
    vault_before = fresh(vault).balance

    txn = deposit_create(initiator=agnes, account_id=alice_account.pk, amount=200_00, reference="Cash in")

    assert (txn.kind, txn.status, txn.source_id, txn.destination_id) == (
        TransactionKind.DEPOSIT,
        TransactionStatus.POSTED,
        vault.pk,
        alice_account.pk,
    )
    vault_leg, customer_leg = entries_of(txn)
    assert (vault_leg.account_id, vault_leg.amount, vault_leg.counterparty) == (vault.pk, -200_00, alice_account.iban)
    assert (customer_leg.account_id, customer_leg.amount, customer_leg.counterparty) == (
        alice_account.pk,
        200_00,
        CASH_COUNTERPARTY,
    )
    assert customer_leg.balance_after == 1_200_00
    assert fresh(alice_account).balance == 1_200_00
    assert fresh(vault).balance == vault_before - 200_00
    assert_balanced(vault)
    assert_audited(last_event(), actor=agnes, action=actions.TRANSACTION_POSTED, target_type="transaction",
                   target_id=txn.pk)


def test_cash_withdrawal_debits_the_customer_and_credits_the_vault(sam, alice_account, vault):
    vault_before = fresh(vault).balance

    txn = withdrawal_create(initiator=sam, account_id=alice_account.pk, amount=300_00)

    assert (txn.kind, txn.status, txn.source_id, txn.destination_id) == (
        TransactionKind.WITHDRAWAL,
        TransactionStatus.POSTED,
        alice_account.pk,
        vault.pk,
    )
    customer_leg, vault_leg = entries_of(txn)
    assert (customer_leg.amount, customer_leg.counterparty, customer_leg.balance_after) == (
        -300_00,
        CASH_COUNTERPARTY,
        700_00,
    )
    assert (vault_leg.amount, vault_leg.counterparty) == (300_00, alice_account.iban)
    assert fresh(vault).balance == vault_before + 300_00
    assert_audited(last_event(), actor=sam, action=actions.TRANSACTION_POSTED, target_type="transaction",
                   target_id=txn.pk)


@pytest.mark.parametrize("operation", [deposit_create, withdrawal_create])
def test_customers_cannot_handle_cash(alice, alice_account, unchanged, operation):
    with unchanged(), refused("permission_denied"):
        operation(initiator=alice, account_id=alice_account.pk, amount=10_00)


@pytest.mark.parametrize("operation", [deposit_create, withdrawal_create])
def test_cash_goes_to_customer_accounts_only(agnes, clearing, unchanged, operation):
    with unchanged(), refused("unknown_account"):
        operation(initiator=agnes, account_id=clearing.pk, amount=10_00)


def test_withdrawal_beyond_the_balance_is_refused(agnes, alice_account, unchanged):
    with unchanged(), refused("insufficient_funds"):
        withdrawal_create(initiator=agnes, account_id=alice_account.pk, amount=1_000_01)


@pytest.mark.parametrize("operation", [deposit_create, withdrawal_create])
def test_cash_on_a_frozen_account_is_refused(agnes, alice_account, unchanged, operation):
    account_freeze(actor=agnes, account_id=alice_account.pk, reason="Identity check")

    with unchanged(), refused("account_frozen"):
        operation(initiator=agnes, account_id=alice_account.pk, amount=10_00)


def test_cash_deposit_at_the_threshold_is_pending_without_a_hold(agnes, alice_account, vault):
    txn = deposit_create(initiator=agnes, account_id=alice_account.pk, amount=5_000_00)

    assert txn.status == TransactionStatus.PENDING and txn.hold_amount == 0
    assert fresh(alice_account).balance == 1_000_00 and alice_account.held == 0
    assert fresh(vault).held == 0
    assert not Entry.objects.filter(transaction=txn).exists()
    assert_audited(last_event(), actor=agnes, action=actions.TRANSACTION_PENDING, target_type="transaction",
                   target_id=txn.pk)


def test_cash_deposit_just_below_the_threshold_posts(agnes, alice_account):
    assert deposit_create(initiator=agnes, account_id=alice_account.pk, amount=4_999_99).status == "posted"
    assert fresh(alice_account).balance == 1_000_00 + 4_999_99


def test_cash_withdrawal_at_the_threshold_is_pending_with_a_hold(agnes, rich_account):
    txn = withdrawal_create(initiator=agnes, account_id=rich_account.pk, amount=5_000_00)

    assert txn.status == TransactionStatus.PENDING and txn.hold_amount == 5_000_00
    fresh(rich_account)
    assert rich_account.balance == 15_000_00 and rich_account.held == 5_000_00
    assert rich_account.available == 10_000_00


def test_pending_withdrawal_beyond_the_balance_is_refused(agnes, alice_account, unchanged):
    with unchanged(), refused("insufficient_funds"):
        withdrawal_create(initiator=agnes, account_id=alice_account.pk, amount=5_000_00)


# --- Approvals --------------------------------------------------------------------------------


def test_another_staff_member_approves_a_pending_transfer(alice, sam, rich_account, bob_account):
    txn = pending_transfer(alice, rich_account, bob_account, 12_000_00)

    approved = transaction_approve(approver=sam, transaction_id=txn.pk)

    assert approved.pk == txn.pk
    txn.refresh_from_db()
    assert txn.status == TransactionStatus.POSTED
    assert txn.decided_by == sam and txn.decided_at is not None and txn.posted_at == txn.decided_at
    fresh(rich_account)
    assert rich_account.held == 0 and rich_account.balance == 3_000_00
    assert fresh(bob_account).balance == 12_500_00
    debit, credit = entries_of(txn)
    assert (debit.account_id, debit.amount, debit.balance_after, debit.counterparty) == (
        rich_account.pk,
        -12_000_00,
        3_000_00,
        bob_account.iban,
    )
    assert (credit.account_id, credit.amount, credit.counterparty) == (bob_account.pk, 12_000_00, rich_account.iban)
    assert_balanced(rich_account)
    event = last_event()
    assert_audited(event, actor=sam, action=actions.TRANSACTION_APPROVED, target_type="transaction", target_id=txn.pk)
    assert event.data["initiated_by"] == alice.pk and event.data["status"] == "posted"


def test_approving_a_pending_withdrawal_and_deposit(agnes, sam, rich_account, vault):
    withdrawal = withdrawal_create(initiator=agnes, account_id=rich_account.pk, amount=6_000_00)
    deposit = deposit_create(initiator=sam, account_id=rich_account.pk, amount=7_000_00)
    vault_before = fresh(vault).balance

    transaction_approve(approver=sam, transaction_id=withdrawal.pk)
    transaction_approve(approver=agnes, transaction_id=deposit.pk)

    fresh(rich_account)
    assert rich_account.balance == 15_000_00 - 6_000_00 + 7_000_00 and rich_account.held == 0
    assert fresh(vault).balance == vault_before + 6_000_00 - 7_000_00
    assert [e.amount for e in entries_of(withdrawal)] == [-6_000_00, 6_000_00]
    assert [e.amount for e in entries_of(deposit)] == [-7_000_00, 7_000_00]
    assert_balanced(rich_account)
    assert_balanced(vault)


def test_the_initiator_cannot_decide(agnes, rich_account, unchanged):
    txn = withdrawal_create(initiator=agnes, account_id=rich_account.pk, amount=5_000_00)

    with unchanged(), refused("permission_denied"):
        transaction_approve(approver=agnes, transaction_id=txn.pk)
    with unchanged(), refused("permission_denied"):
        transaction_reject(approver=agnes, transaction_id=txn.pk, reason="Changed my mind")


def test_customers_cannot_decide(alice, bob, rich_account, bob_account, unchanged):
    txn = pending_transfer(alice, rich_account, bob_account)

    for customer in (alice, bob):
        with unchanged(), refused("permission_denied"):
            transaction_approve(approver=customer, transaction_id=txn.pk)
        with unchanged(), refused("permission_denied"):
            transaction_reject(approver=customer, transaction_id=txn.pk, reason="No")


def test_only_a_pending_transaction_can_be_decided(alice, sam, agnes, alice_account, rich_account, bob_account,
                                                   unchanged):
    posted = transfer_create(
        initiator=alice, source_account_id=alice_account.pk, destination_iban=bob_account.iban, amount=1_00
    )
    rejected = pending_transfer(alice, rich_account, bob_account)
    transaction_reject(approver=sam, transaction_id=rejected.pk, reason="Unusual amount")
    approved = pending_transfer(alice, rich_account, bob_account)
    transaction_approve(approver=sam, transaction_id=approved.pk)

    for txn in (posted, rejected, approved):
        with unchanged(), refused("not_pending"):
            transaction_approve(approver=agnes, transaction_id=txn.pk)
        with unchanged(), refused("not_pending"):
            transaction_reject(approver=agnes, transaction_id=txn.pk, reason="Too late")


def test_deciding_a_missing_transaction_is_not_found(sam, unchanged):
    with unchanged(), refused("not_found"):
        transaction_approve(approver=sam, transaction_id=10**9)
    with unchanged(), refused("not_found"):
        transaction_reject(approver=sam, transaction_id=10**9, reason="No")


def test_reject_releases_the_hold(alice, sam, rich_account, bob_account):
    txn = pending_transfer(alice, rich_account, bob_account, 11_000_00)
    entries_before = Entry.objects.count()

    transaction_reject(approver=sam, transaction_id=txn.pk, reason="  Looks like fraud  ")

    txn.refresh_from_db()
    assert txn.status == TransactionStatus.REJECTED
    assert txn.decided_by == sam and txn.decided_at is not None and txn.decision_reason == "Looks like fraud"
    assert txn.posted_at is None
    fresh(rich_account)
    assert rich_account.held == 0 and rich_account.balance == 15_000_00
    assert fresh(bob_account).balance == 500_00
    assert Entry.objects.count() == entries_before
    event = last_event()
    assert_audited(event, actor=sam, action=actions.TRANSACTION_REJECTED, target_type="transaction", target_id=txn.pk)
    assert event.data["reason"] == "Looks like fraud"


@pytest.mark.parametrize("reason", ["", "   ", None, "x" * 501])
def test_reject_needs_a_reason(alice, sam, rich_account, bob_account, unchanged, reason):
    txn = pending_transfer(alice, rich_account, bob_account)

    with unchanged(), refused("validation_error") as excinfo:
        transaction_reject(approver=sam, transaction_id=txn.pk, reason=reason)
    assert "reason" in excinfo.value.fields


def test_approval_is_refused_when_an_account_was_frozen_meanwhile(alice, sam, agnes, rich_account, bob_account,
                                                                   unchanged):
    txn = pending_transfer(alice, rich_account, bob_account)
    account_freeze(actor=agnes, account_id=bob_account.pk, reason="Court order")

    with unchanged(), refused("account_frozen"):
        transaction_approve(approver=sam, transaction_id=txn.pk)
    assert fresh(rich_account).held == 10_000_00


# --- Expiry -----------------------------------------------------------------------------------


def test_pending_expire_voids_expired_pendings_and_releases_holds(alice, agnes, rich_account, bob_account,
                                                                   unchanged):
    txn = pending_transfer(alice, rich_account, bob_account)
    deposit = deposit_create(initiator=agnes, account_id=bob_account.pk, amount=6_000_00)

    with unchanged():
        assert pending_expire(now=txn.created_at + timedelta(days=6)) == 0

    later = txn.created_at + timedelta(days=7, seconds=1)
    assert pending_expire(now=later) == 2

    txn.refresh_from_db()
    deposit.refresh_from_db()
    assert txn.status == deposit.status == TransactionStatus.VOIDED
    assert txn.decided_at == later and txn.decided_by is None and txn.posted_at is None
    fresh(rich_account)
    assert rich_account.held == 0 and rich_account.balance == 15_000_00
    assert fresh(bob_account).balance == 500_00
    assert not Entry.objects.filter(transaction__in=[txn, deposit]).exists()
    expiries = AuditEvent.objects.filter(action=actions.TRANSACTION_EXPIRED).order_by("pk")
    assert [e.target_id for e in expiries] == [str(txn.pk), str(deposit.pk)]
    assert_audited(expiries[0], actor=None, action=actions.TRANSACTION_EXPIRED, target_type="transaction",
                   target_id=txn.pk)
    with unchanged():
        assert pending_expire(now=later + timedelta(days=1)) == 0


def test_a_decided_transaction_does_not_expire(alice, sam, rich_account, bob_account, unchanged):
    txn = pending_transfer(alice, rich_account, bob_account)
    transaction_reject(approver=sam, transaction_id=txn.pk, reason="No")

    with unchanged():
        assert pending_expire(now=timezone.now() + timedelta(days=30)) == 0


def test_an_expired_transaction_cannot_be_decided(alice, sam, rich_account, bob_account, unchanged):
    txn = pending_transfer(alice, rich_account, bob_account, at=timezone.now() - timedelta(days=8))
    assert txn.expires_at < timezone.now()

    with unchanged(), refused("not_pending"):
        transaction_approve(approver=sam, transaction_id=txn.pk)
    with unchanged(), refused("not_pending"):
        transaction_reject(approver=sam, transaction_id=txn.pk, reason="Late")

    assert pending_expire() == 1
    assert fresh(rich_account).held == 0
    with unchanged(), refused("not_pending"):
        transaction_approve(approver=sam, transaction_id=txn.pk)
