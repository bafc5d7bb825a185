"""Every service call that changes something records exactly one audit event (with its outbox
message) in the same transaction; a refused call records nothing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from audit import actions
from audit.models import AuditEvent, OutboxMessage
from audit.services import audit_record
from banking.models import TransactionStatus
from banking.services import (
    account_close,
    account_freeze,
    account_open,
    account_unfreeze,
    deposit_create,
    pending_expire,
    transaction_approve,
    transaction_cancel,
    transaction_reject,
    transaction_reverse,
    transfer_create,
    withdrawal_create,
)
from core.errors import ApplicationError, ValidationFailed
from core.testing.users import TEST_PASSWORD
from identity.services import customer_create, token_logout, token_obtain

PENDING_CASH = 5_000_00  # FLUX_CASH_APPROVAL_THRESHOLD
PENDING_TRANSFER = 10_000_00  # FLUX_APPROVAL_THRESHOLD


def only_new_event(call: Callable[[], object]) -> tuple[object, AuditEvent]:
    """Run `call`; assert it recorded exactly one audit event, with its outbox message."""
    last = AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    outbox_before = OutboxMessage.objects.count()
    result = call()
    events = list(AuditEvent.objects.filter(pk__gt=last))
    assert len(events) == 1, [event.action for event in events]
    assert OutboxMessage.objects.count() == outbox_before + 1
    assert OutboxMessage.objects.filter(event=events[0]).exists()
    return result, events[0]


def assert_event(event: AuditEvent, *, actor, action: str, target_type: str, target_id: object) -> None:
    assert event.action == action
    assert event.actor == actor
    assert event.actor_username == (actor.username if actor else "")
    assert event.target_type == target_type
    assert event.target_id == str(target_id)


@pytest.fixture
def pending_deposit(agnes, bob_account):
    return deposit_create(initiator=agnes, account_id=bob_account.pk, amount=PENDING_CASH)


# --- Identity -----------------------------------------------------------------------------------


def test_customer_create(agnes):
    customer, event = only_new_event(lambda: customer_create(
        actor=agnes, username="carol", first_name="Carol", last_name="C", email="carol@example.test"))
    assert_event(event, actor=agnes, action=actions.CUSTOMER_CREATED, target_type="customer", target_id=customer.pk)
    assert event.data == {"username": "carol", "email": "carol@example.test", "password_link": True}


def test_token_obtain_success(alice):
    _, event = only_new_event(lambda: token_obtain(username="alice", password=TEST_PASSWORD))
    assert_event(event, actor=alice, action=actions.AUTH_LOGIN, target_type="user", target_id=alice.pk)


def test_token_obtain_failure_is_audited_without_an_actor(alice):
    def wrong_password():
        with pytest.raises(ApplicationError) as refused:
            token_obtain(username="alice", password="not-the-password")
        assert refused.value.code == "not_authenticated"

    _, event = only_new_event(wrong_password)
    assert_event(event, actor=None, action=actions.AUTH_LOGIN_FAILED, target_type="user", target_id=alice.pk)
    assert event.data["username"] == "alice"
    assert "not-the-password" not in str(event.data)


def test_token_obtain_failure_for_an_unknown_user(db):
    def unknown():
        with pytest.raises(ApplicationError):
            token_obtain(username="nobody", password="x")

    _, event = only_new_event(unknown)
    assert (event.action, event.actor, event.target_type, event.target_id) == (
        actions.AUTH_LOGIN_FAILED, None, "user", "")


def test_token_logout(alice):
    tokens = token_obtain(username="alice", password=TEST_PASSWORD)
    _, event = only_new_event(lambda: token_logout(user=alice, refresh=tokens["refresh"]))
    assert_event(event, actor=alice, action=actions.AUTH_LOGOUT, target_type="user", target_id=alice.pk)


# --- Accounts -----------------------------------------------------------------------------------


def test_account_open(agnes, alice):
    account, event = only_new_event(lambda: account_open(actor=agnes, customer_id=alice.pk, kind="checking"))
    assert_event(event, actor=agnes, action=actions.ACCOUNT_OPENED, target_type="account", target_id=account.pk)
    assert event.data["iban"] == account.iban


def test_account_freeze_unfreeze_close(agnes, sam, open_account, alice):
    account = open_account(alice)
    _, event = only_new_event(lambda: account_freeze(actor=agnes, account_id=account.pk, reason="fraud check"))
    assert_event(event, actor=agnes, action=actions.ACCOUNT_FROZEN, target_type="account", target_id=account.pk)
    assert event.data["reason"] == "fraud check"
    _, event = only_new_event(lambda: account_unfreeze(actor=sam, account_id=account.pk, reason="cleared"))
    assert_event(event, actor=sam, action=actions.ACCOUNT_UNFROZEN, target_type="account", target_id=account.pk)
    _, event = only_new_event(lambda: account_close(actor=agnes, account_id=account.pk, reason="asked"))
    assert_event(event, actor=agnes, action=actions.ACCOUNT_CLOSED, target_type="account", target_id=account.pk)


# --- Money movements ----------------------------------------------------------------------------


def test_transfer_posted(alice, alice_account, bob_account):
    txn, event = only_new_event(lambda: transfer_create(
        initiator=alice, source_account_id=alice_account.pk, destination_iban=bob_account.iban, amount=10_00))
    assert txn.status == TransactionStatus.POSTED
    assert_event(event, actor=alice, action=actions.TRANSACTION_POSTED, target_type="transaction", target_id=txn.pk)
    assert event.data["amount"] == "10.00"


def test_transfer_pending(alice, open_account, bob_account):
    rich = open_account(alice, balance=2 * PENDING_TRANSFER)
    txn, event = only_new_event(lambda: transfer_create(
        initiator=alice, source_account_id=rich.pk, destination_iban=bob_account.iban, amount=PENDING_TRANSFER))
    assert txn.status == TransactionStatus.PENDING
    assert_event(event, actor=alice, action=actions.TRANSACTION_PENDING, target_type="transaction", target_id=txn.pk)


def test_deposit(agnes, bob_account):
    txn, event = only_new_event(lambda: deposit_create(initiator=agnes, account_id=bob_account.pk, amount=5_00))
    assert_event(event, actor=agnes, action=actions.TRANSACTION_POSTED, target_type="transaction", target_id=txn.pk)
    assert event.data["kind"] == "deposit"


def test_withdrawal(agnes, bob_account):
    txn, event = only_new_event(lambda: withdrawal_create(initiator=agnes, account_id=bob_account.pk, amount=5_00))
    assert_event(event, actor=agnes, action=actions.TRANSACTION_POSTED, target_type="transaction", target_id=txn.pk)
    assert event.data["kind"] == "withdrawal"


def test_approve(sam, pending_deposit):
    txn, event = only_new_event(lambda: transaction_approve(approver=sam, transaction_id=pending_deposit.pk))
    assert txn.status == TransactionStatus.POSTED
    assert_event(event, actor=sam, action=actions.TRANSACTION_APPROVED, target_type="transaction",
                 target_id=pending_deposit.pk)


def test_reject(sam, pending_deposit):
    _, event = only_new_event(
        lambda: transaction_reject(approver=sam, transaction_id=pending_deposit.pk, reason="fake notes"))
    assert_event(event, actor=sam, action=actions.TRANSACTION_REJECTED, target_type="transaction",
                 target_id=pending_deposit.pk)
    assert event.data["reason"] == "fake notes"


def test_cancel(alice, open_account, bob_account):
    rich = open_account(alice, balance=2 * PENDING_TRANSFER)
    txn = transfer_create(
        initiator=alice, source_account_id=rich.pk, destination_iban=bob_account.iban, amount=PENDING_TRANSFER)
    _, event = only_new_event(lambda: transaction_cancel(actor=alice, transaction_id=txn.pk))
    assert_event(event, actor=alice, action=actions.TRANSACTION_CANCELLED, target_type="transaction", target_id=txn.pk)
    assert event.data["status"] == "cancelled"


def test_pending_expire_is_audited_without_an_actor(pending_deposit):
    later = timezone.now() + timedelta(days=365)
    count, event = only_new_event(lambda: pending_expire(now=later))
    assert count == 1
    assert_event(event, actor=None, action=actions.TRANSACTION_EXPIRED, target_type="transaction",
                 target_id=pending_deposit.pk)


def test_reverse_is_audited_when_asked_for_then_when_approved(agnes, sam, bob_account):
    txn = deposit_create(initiator=agnes, account_id=bob_account.pk, amount=7_00)
    reversal, event = only_new_event(lambda: transaction_reverse(actor=sam, transaction_id=txn.pk, reason="typo"))
    assert_event(event, actor=sam, action=actions.TRANSACTION_PENDING, target_type="transaction",
                 target_id=reversal.pk)
    assert event.data["reverses"] == txn.pk and event.data["reason"] == "typo" and event.data["kind"] == "reversal"

    last = event.pk
    transaction_approve(approver=agnes, transaction_id=reversal.pk)

    approved, reversed_event = AuditEvent.objects.filter(pk__gt=last).order_by("pk")
    assert_event(approved, actor=agnes, action=actions.TRANSACTION_APPROVED, target_type="transaction",
                 target_id=reversal.pk)
    assert_event(reversed_event, actor=agnes, action=actions.TRANSACTION_REVERSED, target_type="transaction",
                 target_id=txn.pk)
    assert reversed_event.data["reversal"] == reversal.pk and reversed_event.data["requested_by"] == sam.pk
    assert OutboxMessage.objects.filter(event__in=[approved, reversed_event]).count() == 2


# --- Refused operations record nothing ----------------------------------------------------------


REFUSALS = {
    "customer deposits": lambda f: deposit_create(initiator=f["alice"], account_id=f["bob_account"].pk, amount=1),
    "overdrawn transfer": lambda f: transfer_create(
        initiator=f["alice"], source_account_id=f["alice_account"].pk, destination_iban=f["bob_account"].iban,
        amount=1_000_000_00),
    "freeze without a reason": lambda f: account_freeze(actor=f["agnes"], account_id=f["bob_account"].pk, reason=" "),
    "unfreeze an active account": lambda f: account_unfreeze(
        actor=f["agnes"], account_id=f["bob_account"].pk, reason="why"),
    "close a funded account": lambda f: account_close(actor=f["agnes"], account_id=f["bob_account"].pk, reason="x"),
    "approve your own": lambda f: transaction_approve(approver=f["agnes"], transaction_id=f["pending"].pk),
    "reverse a pending one": lambda f: transaction_reverse(
        actor=f["sam"], transaction_id=f["pending"].pk, reason="x"),
    "customer onboards": lambda f: customer_create(
        actor=f["alice"], username="eve", first_name="E", last_name="V", email="eve@example.test"),
    "logout with a bad token": lambda f: token_logout(user=f["alice"], refresh="not-a-token"),
    "open for a non-customer": lambda f: account_open(actor=f["agnes"], customer_id=f["sam"].pk, kind="checking"),
}


@pytest.mark.parametrize("case", REFUSALS)
def test_a_refused_operation_records_no_event(case, agnes, sam, alice, alice_account, bob_account, unchanged):
    pending = deposit_create(initiator=agnes, account_id=bob_account.pk, amount=PENDING_CASH)
    people = {"agnes": agnes, "sam": sam, "alice": alice, "alice_account": alice_account,
              "bob_account": bob_account, "pending": pending}
    outbox = OutboxMessage.objects.count()
    with unchanged():
        with pytest.raises((ApplicationError, ValidationFailed)):
            REFUSALS[case](people)
    assert OutboxMessage.objects.count() == outbox


@pytest.mark.django_db(transaction=True)
def test_audit_record_outside_an_atomic_block_raises(agnes):
    with pytest.raises(RuntimeError, match="atomic"):
        audit_record(actor=agnes, action=actions.ACCOUNT_FROZEN, target_type="account", target_id=1)
    assert not AuditEvent.objects.exists()
    assert not OutboxMessage.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_an_event_rolls_back_with_its_change(agnes):
    class Abort(Exception):
        pass

    with pytest.raises(Abort), transaction.atomic():
        audit_record(actor=agnes, action=actions.ACCOUNT_FROZEN, target_type="account", target_id=1)
        assert AuditEvent.objects.count() == 1
        raise Abort
    assert not AuditEvent.objects.exists()
    assert not OutboxMessage.objects.exists()
