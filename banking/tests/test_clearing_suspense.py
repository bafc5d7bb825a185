"""Suspense: an item is assigned to a customer account or sent back to the payer, posted below the
approval threshold and pending (four eyes) at or above it; a rejected, expired or cancelled
resolution leaves it open again; a refusal changes nothing; two assignments at once: one wins."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from audit.models import AuditEvent
from banking.clearing.suspense import (
    OPEN,
    PENDING,
    RESOLVED,
    send_back_reference,
    status_of,
    suspense_assign,
    suspense_item,
    suspense_items,
    suspense_send_back,
)
from banking.ledger import internal_account
from banking.models import (
    AccountKind,
    AccountStatus,
    Entry,
    SuspenseItem,
    Transaction,
    TransactionKind,
    TransactionStatus,
)
from banking.services import (
    account_freeze,
    pending_expire,
    transaction_approve,
    transaction_cancel,
    transaction_reject,
)
from banking.tests.clearing_factories import PAYER_IBAN, place_in_suspense
from banking.tests.factories import AccountFactory, fresh
from banking.tests.ledger import assert_ledger_consistent
from core.errors import ApplicationError
from core.testing.threads import run_threads
from identity.tests.factories import SupervisorFactory

pytestmark = pytest.mark.django_db

SMALL = 250_00
LARGE = 12_000_00  # at or above FLUX_APPROVAL_THRESHOLD (10000.00)


@pytest.fixture
def suspense(db):
    return internal_account(AccountKind.SUSPENSE, "EUR")


@pytest.fixture
def item(sam, suspense, clearing):
    return place_in_suspense(by=sam, amount=SMALL, remittance="Invoice 42 for Flux customer")


@pytest.fixture
def large_item(sam, suspense, clearing):
    return place_in_suspense(by=sam, amount=LARGE, debtor_name="Société Générale de Test")


@pytest.fixture
def sophie(db):
    """A second supervisor, to approve sam's."""
    return SupervisorFactory(username="sophie")


def events(action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action).order_by("pk"))


# --- Assign -------------------------------------------------------------------------------------


def test_assign_below_the_threshold_posts_from_suspense_to_the_account_named_after_the_payer(
        sam, item, bob_account, suspense):
    before = fresh(bob_account).balance
    txn = suspense_assign(initiator=sam, item_id=item.pk, account_id=bob_account.pk)

    assert (txn.kind, txn.status, txn.amount) == (TransactionKind.INCOMING_TRANSFER, TransactionStatus.POSTED, SMALL)
    assert txn.source_id == suspense.pk and txn.destination_id == bob_account.pk
    assert (txn.payer_name, txn.external_iban, txn.reference) == (
        "Jean Dupont", PAYER_IBAN, "Invoice 42 for Flux customer")
    assert fresh(bob_account).balance == before + SMALL
    assert fresh(suspense).balance == 0
    # The customer's entry names the payer's bank account.
    assert Entry.objects.get(transaction=txn, account=bob_account).counterparty == PAYER_IBAN
    item.refresh_from_db()
    assert item.resolution_id == txn.pk and status_of(suspense_item(item.pk)) == RESOLVED
    [event] = events("suspense.assigned")
    assert (event.target_type, event.target_id, event.actor_id) == ("suspense_item", str(item.pk), sam.pk)
    assert event.data["transaction"] == txn.pk and event.data["account"] == bob_account.iban
    assert event.data["amount"] == "250.00" and event.data["status"] == "posted"
    assert AuditEvent.objects.filter(action="transaction.posted", target_id=str(txn.pk)).exists()
    assert_ledger_consistent()


def test_assign_at_the_threshold_waits_for_another_member_of_staff(sam, sophie, agnes, large_item, bob_account,
                                                                   suspense):
    before = fresh(bob_account).balance
    txn = suspense_assign(initiator=sam, item_id=large_item.pk, account_id=bob_account.pk)

    assert txn.status == TransactionStatus.PENDING and txn.hold_amount == 0
    assert fresh(suspense).held == 0 and fresh(suspense).balance == LARGE  # nothing held on the bank's account
    assert fresh(bob_account).balance == before
    assert status_of(suspense_item(large_item.pk)) == PENDING
    assert [i.pk for i in suspense_items(status=PENDING)] == [large_item.pk]
    assert events("suspense.assigned")[0].data["status"] == "pending"
    # Another assignment meanwhile is refused: the item waits for its decision.
    with pytest.raises(ApplicationError) as refused:
        suspense_assign(initiator=sam, item_id=large_item.pk, account_id=bob_account.pk)
    assert refused.value.code == "not_open"
    # Never by its initiator.
    with pytest.raises(ApplicationError) as own:
        transaction_approve(approver=sam, transaction_id=txn.pk)
    assert own.value.code == "permission_denied"

    transaction_approve(approver=sophie, transaction_id=txn.pk)
    assert fresh(bob_account).balance == before + LARGE
    assert fresh(suspense).balance == 0
    assert status_of(suspense_item(large_item.pk)) == RESOLVED
    assert_ledger_consistent()


def test_an_agent_approves_a_pending_assignment_within_their_limit(sam, agnes, large_item, bob_account, suspense):
    txn = suspense_assign(initiator=sam, item_id=large_item.pk, account_id=bob_account.pk)
    approved = transaction_approve(approver=agnes, transaction_id=txn.pk)
    assert approved.status == TransactionStatus.POSTED and fresh(suspense).balance == 0


@pytest.mark.parametrize("end", ["reject", "expire", "cancel"])
def test_a_rejected_expired_or_cancelled_assignment_leaves_the_item_open_again(
        end, sam, sophie, large_item, bob_account, carol_account, suspense):
    txn = suspense_assign(initiator=sam, item_id=large_item.pk, account_id=bob_account.pk)
    if end == "reject":
        transaction_reject(approver=sophie, transaction_id=txn.pk, reason="Wrong customer")
    elif end == "expire":
        assert pending_expire(now=timezone.now() + timedelta(days=30)) == 1
    else:
        transaction_cancel(actor=sophie, transaction_id=txn.pk)
    assert fresh(suspense).balance == LARGE and fresh(suspense).held == 0
    assert status_of(suspense_item(large_item.pk)) == OPEN
    assert [i.pk for i in suspense_items()] == [large_item.pk]

    again = suspense_assign(initiator=sam, item_id=large_item.pk, account_id=carol_account.pk)
    transaction_approve(approver=sophie, transaction_id=again.pk)
    assert fresh(carol_account).balance == LARGE and fresh(suspense).balance == 0
    large_item.refresh_from_db()
    assert large_item.resolution_id == again.pk
    assert_ledger_consistent()


@pytest.mark.parametrize("case", ["frozen", "closed", "currency", "internal", "missing"])
def test_a_wrong_account_is_refused_and_nothing_changes(case, sam, agnes, item, bob, alice_account, unchanged):
    if case == "frozen":
        account_freeze(actor=agnes, account_id=alice_account.pk, reason="Fraud check")
        account_id, code = alice_account.pk, "account_frozen"
    elif case == "closed":
        closed = AccountFactory(customer=bob)
        from banking.services import account_close
        account_close(actor=agnes, account_id=closed.pk, reason="Customer request")
        assert fresh(closed).status == AccountStatus.CLOSED
        account_id, code = closed.pk, "account_closed"
    elif case == "currency":
        account_id, code = AccountFactory(customer=bob, currency="USD").pk, "currency_mismatch"
    elif case == "internal":
        account_id, code = internal_account(AccountKind.CASH, "EUR").pk, "not_found"
    else:
        account_id, code = 999_999, "not_found"
    with unchanged():
        with pytest.raises(ApplicationError) as refused:
            suspense_assign(initiator=sam, item_id=item.pk, account_id=account_id)
    assert refused.value.code == code
    item.refresh_from_db()
    assert item.resolution_id is None


def test_only_a_supervisor_assigns_or_sends_back(agnes, alice, item, alice_account, unchanged):
    with unchanged():
        for user in (agnes, alice):
            with pytest.raises(ApplicationError) as refused:
                suspense_assign(initiator=user, item_id=item.pk, account_id=alice_account.pk)
            assert refused.value.code == "permission_denied"
            with pytest.raises(ApplicationError) as refused:
                suspense_send_back(initiator=user, item_id=item.pk)
            assert refused.value.code == "permission_denied"


def test_an_unknown_item_is_not_found(sam, alice_account):
    with pytest.raises(ApplicationError) as refused:
        suspense_assign(initiator=sam, item_id=424242, account_id=alice_account.pk)
    assert refused.value.code == "not_found"


# --- Send back ----------------------------------------------------------------------------------


def to_clear():
    """What the next clearing run takes (banking.clearing.runs): posted transfers to another bank in
    no file yet."""
    return Transaction.objects.filter(
        kind=TransactionKind.EXTERNAL_TRANSFER, status=TransactionStatus.POSTED, clearing_run__isnull=True)


def test_send_back_posts_a_transfer_to_the_payer_that_the_next_clearing_run_takes(sam, item, suspense, clearing):
    clearing_before = fresh(clearing).balance
    txn = suspense_send_back(initiator=sam, item_id=item.pk, reason="Payer unknown to us")

    assert (txn.kind, txn.status) == (TransactionKind.EXTERNAL_TRANSFER, TransactionStatus.POSTED)
    assert txn.source_id == suspense.pk and txn.destination_id == clearing.pk
    assert txn.external_iban == PAYER_IBAN and txn.beneficiary_name == "Jean Dupont"
    assert txn.reference == "Returned to sender: Invoice 42 for Flux customer"
    assert list(to_clear()) == [txn]
    assert fresh(suspense).balance == 0 and fresh(clearing).balance == clearing_before + SMALL
    assert status_of(suspense_item(item.pk)) == RESOLVED
    [event] = events("suspense.sent_back")
    assert event.data["iban"] == PAYER_IBAN and event.data["reason"] == "Payer unknown to us"
    assert event.data["transaction"] == txn.pk
    assert_ledger_consistent()


def test_send_back_at_the_threshold_is_pending_and_only_sent_once_approved(sam, sophie, large_item, suspense):
    txn = suspense_send_back(initiator=sam, item_id=large_item.pk)
    assert txn.status == TransactionStatus.PENDING and list(to_clear()) == []
    assert txn.beneficiary_name == "Société Générale de Test"
    transaction_approve(approver=sophie, transaction_id=txn.pk)
    assert list(to_clear()) == [Transaction.objects.get(pk=txn.pk)]
    assert fresh(suspense).balance == 0


def test_a_send_back_the_other_bank_returned_leaves_the_item_open(sam, item):
    txn = suspense_send_back(initiator=sam, item_id=item.pk)
    Transaction.objects.filter(pk=txn.pk).update(status=TransactionStatus.RETURNED)
    assert status_of(suspense_item(item.pk)) == OPEN


@pytest.mark.parametrize("iban", ["", "FR00 1234", "NL02FLUX0000000000"])
def test_send_back_without_a_usable_payer_iban_is_refused(iban, sam, suspense, clearing, unchanged):
    item = place_in_suspense(by=sam, amount=SMALL, debtor_iban=iban)
    with unchanged():
        with pytest.raises(ApplicationError) as refused:
            suspense_send_back(initiator=sam, item_id=item.pk)
    assert refused.value.code == "invalid_iban" and refused.value.status == 422


def test_the_send_back_reference_keeps_to_140_characters():
    assert send_back_reference("") == "Returned to sender"
    long = send_back_reference("x" * 200)
    assert len(long) == 140 and long.startswith("Returned to sender: xxx")


# --- Listing ------------------------------------------------------------------------------------


def test_items_list_open_by_default_oldest_first_and_by_status(sam, sophie, suspense, clearing, bob_account):
    first = place_in_suspense(by=sam, amount=100_00)
    second = place_in_suspense(by=sam, amount=LARGE)
    third = place_in_suspense(by=sam, amount=300_00)
    suspense_assign(initiator=sam, item_id=third.pk, account_id=bob_account.pk)
    suspense_assign(initiator=sam, item_id=second.pk, account_id=bob_account.pk)  # pending
    assert [i.pk for i in suspense_items()] == [first.pk]
    assert [i.pk for i in suspense_items(status=PENDING)] == [second.pk]
    assert [i.pk for i in suspense_items(status=RESOLVED)] == [third.pk]
    assert [(i.pk, i.status) for i in suspense_items(status="all")] == [
        (first.pk, OPEN), (second.pk, PENDING), (third.pk, RESOLVED)]
    with pytest.raises(ApplicationError):
        list(suspense_items(status="nonsense"))


# --- Two at once --------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_assignments_at_once_one_wins(sam, bob_account, carol_account, suspense, clearing):
    if connection.vendor != "postgresql":
        pytest.skip("row locks need PostgreSQL")
    item = place_in_suspense(by=sam, amount=SMALL)
    def assign(index, barrier):
        barrier.wait(timeout=30)
        suspense_assign(initiator=sam, item_id=item.pk, account_id=(bob_account, carol_account)[index].pk)
        return "ok"

    outcomes = [outcome if outcome == "ok" else outcome.code
                for outcome in run_threads(2, assign, expected=(ApplicationError,))]
    assert sorted(outcomes) == ["not_open", "ok"]
    assert Transaction.objects.filter(kind=TransactionKind.INCOMING_TRANSFER, source=suspense).count() == 1
    assert fresh(suspense).balance == 0
    assert SuspenseItem.objects.get(pk=item.pk).resolution is not None
    assert AuditEvent.objects.filter(action="suspense.assigned").count() == 1
    assert_ledger_consistent()
