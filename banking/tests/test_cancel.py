"""Cancelling a pending transaction (issue 14): the service and POST transactions/{id}/cancel/.

The customer who made it (or staff) cancels it: `cancelled`, its hold released (available
restored, balance unchanged), nothing posted, audited once. Every refusal leaves balances, holds,
entries, transactions and audit events exactly as before."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from audit import actions
from audit.models import AuditEvent
from audit.tests.support import assert_audited, last_event
from banking.models import Entry, Transaction, TransactionStatus
from banking.services import (
    deposit_create,
    transaction_approve,
    transaction_cancel,
    transaction_reject,
    transfer_create,
)
from banking.tests.factories import fresh, pending_transfer
from banking.tests.support import ACCOUNTS
from core.errors import ApplicationError
from core.testing.api import API, assert_error, idempotency_key, post
from core.testing.assertions import refused
from core.testing.request_ids import request_data

pytestmark = pytest.mark.django_db


def cancel_url(txn_id) -> str:
    return f"{API}transactions/{txn_id}/cancel/"


# --- The service -------------------------------------------------------------------------------


def test_the_initiator_cancels_and_the_hold_is_released(alice, rich_account, bob_account):
    txn = pending_transfer(alice, rich_account, bob_account, 12_000_00)
    assert fresh(rich_account).held == 12_000_00
    entries_before = Entry.objects.count()
    events_before = AuditEvent.objects.count()

    result = transaction_cancel(actor=alice, transaction_id=txn.pk)

    assert result.status == TransactionStatus.CANCELLED
    txn.refresh_from_db()
    assert txn.status == TransactionStatus.CANCELLED
    assert txn.decided_by == alice and txn.decided_at is not None and txn.posted_at is None
    account = fresh(rich_account)
    assert account.held == 0 and account.balance == 30_000_00
    assert fresh(bob_account).balance == 500_00
    assert Entry.objects.count() == entries_before
    assert AuditEvent.objects.count() == events_before + 1
    event = last_event()
    assert_audited(event, actor=alice, action=actions.TRANSACTION_CANCELLED, target_type="transaction",
                   target_id=txn.pk)
    assert event.data["status"] == "cancelled" and event.data["amount"] == "12000.00"
    assert event.data["initiated_by"] == alice.pk


@pytest.mark.parametrize("staff", ["agnes", "sam"])
def test_staff_may_cancel(request, alice, rich_account, bob_account, staff):
    member = request.getfixturevalue(staff)
    txn = pending_transfer(alice, rich_account, bob_account)
    transaction_cancel(actor=member, transaction_id=txn.pk)
    assert fresh(rich_account).held == 0
    assert_audited(last_event(), actor=member, action=actions.TRANSACTION_CANCELLED, target_type="transaction",
                   target_id=txn.pk)


def test_another_customer_cannot_see_it(alice, carol, carol_account, rich_account, bob_account, unchanged):
    txn = pending_transfer(alice, rich_account, bob_account)
    with unchanged(), refused("not_found"):
        transaction_cancel(actor=carol, transaction_id=txn.pk)
    with unchanged(), refused("not_found"):
        transaction_cancel(actor=alice, transaction_id=10**9)


def test_the_payee_cannot_cancel(alice, bob, rich_account, bob_account, unchanged):
    txn = pending_transfer(alice, rich_account, bob_account)
    with unchanged(), refused("permission_denied"):
        transaction_cancel(actor=bob, transaction_id=txn.pk)
    assert fresh(rich_account).held == 10_000_00


def test_a_customer_cannot_cancel_what_staff_started_on_their_account(agnes, alice, rich_account, unchanged):
    deposit = deposit_create(initiator=agnes, account_id=rich_account.pk, amount=6_000_00)
    assert deposit.status == TransactionStatus.PENDING
    with unchanged(), refused("permission_denied"):
        transaction_cancel(actor=alice, transaction_id=deposit.pk)


def test_only_a_pending_transaction_can_be_cancelled(alice, sam, alice_account, rich_account, bob_account,
                                                     unchanged):
    posted = transfer_create(initiator=alice, source_account_id=alice_account.pk,
                             destination_iban=bob_account.iban, amount=1_00)
    rejected = pending_transfer(alice, rich_account, bob_account)
    transaction_reject(approver=sam, transaction_id=rejected.pk, reason="Unusual")
    approved = pending_transfer(alice, rich_account, bob_account)
    transaction_approve(approver=sam, transaction_id=approved.pk)
    cancelled = pending_transfer(alice, rich_account, bob_account, 1_000_000)
    transaction_cancel(actor=alice, transaction_id=cancelled.pk)
    expired = pending_transfer(alice, rich_account, bob_account, 1_000_000)
    Transaction.objects.filter(pk=expired.pk).update(expires_at=timezone.now() - timedelta(seconds=1))

    for txn in (posted, rejected, approved, cancelled, expired):
        for actor in (alice, sam):
            with unchanged(), refused("not_pending"):
                transaction_cancel(actor=actor, transaction_id=txn.pk)


def test_a_cancelled_transaction_cannot_be_approved(alice, sam, rich_account, bob_account, unchanged):
    txn = pending_transfer(alice, rich_account, bob_account)
    transaction_cancel(actor=alice, transaction_id=txn.pk)
    with unchanged(), refused("not_pending"):
        transaction_approve(approver=sam, transaction_id=txn.pk)


# --- The API -----------------------------------------------------------------------------------


def test_api_cancel_answers_the_transaction(api_client_for, alice, rich_account, bob_account, pending_transfer):
    client = api_client_for(alice)
    assert client.get(f"{ACCOUNTS}{rich_account.pk}/").json()["available"] == "18000.00"

    response = post(client, cancel_url(pending_transfer["id"]), key=idempotency_key())

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["id"] == pending_transfer["id"] and body["status"] == "cancelled"
    assert body["decided_by"] == alice.pk and body["posted_at"] is None
    detail = client.get(f"{ACCOUNTS}{rich_account.pk}/").json()
    assert detail["balance"] == "30000.00" and detail["available"] == "30000.00"
    assert fresh(bob_account).balance == 500_00
    assert not Entry.objects.filter(transaction_id=body["id"]).exists()
    events = AuditEvent.objects.filter(action=actions.TRANSACTION_CANCELLED)
    assert events.count() == 1
    data = request_data(events.get(), response)
    assert data["status"] == "cancelled" and data["source"] == rich_account.iban


def test_api_cancel_replays_with_the_same_key(api_client_for, alice, rich_account, pending_transfer):
    client = api_client_for(alice)
    key = idempotency_key()
    first = post(client, cancel_url(pending_transfer["id"]), key=key)
    second = post(client, cancel_url(pending_transfer["id"]), key=key)
    assert first.status_code == second.status_code == 200
    assert second.json() == first.json() and second["Idempotent-Replayed"] == "true"
    assert AuditEvent.objects.filter(action=actions.TRANSACTION_CANCELLED).count() == 1
    assert fresh(rich_account).held == 0
    # A new key asks again, and the transaction is no longer pending.
    assert_error(post(client, cancel_url(pending_transfer["id"]), key=idempotency_key()), 409, "not_pending")


def test_api_cancel_refusals_change_nothing(api_client_for, bob, carol, carol_account, pending_transfer,
                                             api_unchanged):
    url = cancel_url(pending_transfer["id"])
    with api_unchanged():
        assert_error(post(api_client_for(carol), url, key=idempotency_key()), 404, "not_found")
        assert_error(post(api_client_for(bob), url, key=idempotency_key()), 403, "permission_denied")
        assert_error(post(api_client_for(carol), cancel_url(999999999)), 404, "not_found")
        assert_error(post(api_client_for(carol), cancel_url("abc")), 404, "not_found")
        assert_error(post(APIClient(), url), 401, "not_authenticated")


def test_api_cancel_of_a_decided_transaction_is_409(api_client_for, alice, sam, pending_transfer, api_unchanged):
    assert post(api_client_for(sam), f"{API}transactions/{pending_transfer['id']}/approve/").status_code == 200
    with api_unchanged():
        assert_error(post(api_client_for(alice), cancel_url(pending_transfer["id"]), key=idempotency_key()), 409,
                     "not_pending")


def test_staff_cancel_through_the_api(api_client_for, agnes, rich_account, pending_transfer):
    response = post(api_client_for(agnes), cancel_url(pending_transfer["id"]))
    assert response.status_code == 200 and response.json()["status"] == "cancelled"
    assert fresh(rich_account).held == 0


# --- Concurrency (PostgreSQL row locks) --------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_cancel_racing_approvals_decides_exactly_once(alice, bob, open_account):
    from django.db import connection

    from banking.tests.test_concurrency import THREADS, assert_ledger_consistent, run_in_threads
    from identity.tests.factories import SupervisorFactory

    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL row locks (set DATABASE_URL)")
    source = open_account(alice, balance=20_000_00)
    destination = open_account(bob)
    pending = transfer_create(initiator=alice, source_account_id=source.pk, destination_iban=destination.iban,
                              amount=15_000_00)
    approvers = [SupervisorFactory() for _ in range(THREADS - 1)]

    def work(index: int) -> str:
        try:
            if index == 0:
                transaction_cancel(actor=alice, transaction_id=pending.pk)
                return "cancelled"
            transaction_approve(approver=approvers[index - 1], transaction_id=pending.pk)
            return "approved"
        except ApplicationError as exc:
            return exc.code

    results, errors = run_in_threads(work)

    assert errors == []
    winners = [result for result in results if result != "not_pending"]
    assert len(winners) == 1 and len(results) == THREADS
    pending.refresh_from_db()
    source.refresh_from_db()
    destination.refresh_from_db()
    assert source.held == 0
    if winners == ["cancelled"]:
        assert pending.status == TransactionStatus.CANCELLED
        assert (source.balance, destination.balance) == (20_000_00, 0)
        assert not pending.entries.exists()
    else:
        assert pending.status == TransactionStatus.POSTED
        assert (source.balance, destination.balance) == (5_000_00, 15_000_00)
    decided = AuditEvent.objects.filter(target_type="transaction", target_id=str(pending.pk),
                                        action__in=[actions.TRANSACTION_CANCELLED, actions.TRANSACTION_APPROVED])
    assert decided.count() == 1
    assert_ledger_consistent([source, destination])
