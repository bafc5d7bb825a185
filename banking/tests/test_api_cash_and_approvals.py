"""The banking REST API v1 for cash at the counter (deposits and withdrawals), transactions,
approvals (approve and reject) and reversals.

Every refused request is checked against the documented error shape and, when it could have moved
money, inside `api_unchanged()`: balances, holds, entries, transactions, audit events and
idempotency keys are exactly as before."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from audit import actions
from audit.models import AuditEvent
from banking.jobs import expire_pending
from banking.ledger import internal_account
from banking.models import AccountKind, Entry, Transaction
from banking.tests.factories import EXTERNAL_IBAN, fresh
from banking.tests.ledger import assert_ledger_consistent
from banking.tests.support import ACCOUNTS, DEPOSITS, TRANSFERS, WITHDRAWALS, balance_of, cash, lifecycle, transfer
from core.testing.api import API, assert_error, idempotency_key, page, post

pytestmark = pytest.mark.django_db

APPROVALS = f"{API}approvals/"


# --- Cash ------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["agent", "supervisor"])
def test_staff_pay_cash_in_and_out(api_client_for, agnes, sam, alice_account, role):
    client = api_client_for(agnes if role == "agent" else sam)
    vault = internal_account(AccountKind.CASH, "EUR")
    vault_before = balance_of(vault)
    deposit = cash(client, DEPOSITS, alice_account, "200.00", reference="Counter")
    assert deposit.status_code == 201, deposit.content
    assert deposit.json()["kind"] == "deposit" and deposit.json()["status"] == "posted"
    assert deposit.json()["amount"] == "200.00" and deposit.json()["reference"] == "Counter"
    withdrawal = cash(client, WITHDRAWALS, alice_account, "50.00")
    assert withdrawal.status_code == 201, withdrawal.content
    assert withdrawal.json()["kind"] == "withdrawal" and withdrawal.json()["status"] == "posted"
    assert balance_of(alice_account) == 1_150_00
    assert balance_of(vault) == vault_before - 150_00
    assert_ledger_consistent()


@pytest.mark.parametrize("url", [DEPOSITS, WITHDRAWALS])
def test_cash_is_staff_only(api_client_for, alice, alice_account, api_unchanged, url):
    with api_unchanged():
        assert_error(cash(api_client_for(alice), url, alice_account, "5.00"), 403, "permission_denied")
        assert_error(cash(APIClient(), url, alice_account, "5.00"), 401, "not_authenticated")


def test_a_deposit_at_the_cash_threshold_is_pending_without_a_hold(api_client_for, agnes, alice_account):
    response = cash(api_client_for(agnes), DEPOSITS, alice_account, "5000.00")
    assert response.status_code == 201 and response.json()["status"] == "pending"
    account = fresh(alice_account)
    assert account.balance == 1_000_00 and account.held == 0
    assert cash(api_client_for(agnes), DEPOSITS, alice_account, "4999.99").json()["status"] == "posted"


def test_a_withdrawal_at_the_cash_threshold_is_pending_and_held(api_client_for, agnes, alice, rich_account):
    response = cash(api_client_for(agnes), WITHDRAWALS, rich_account, "5000.00")
    assert response.status_code == 201 and response.json()["status"] == "pending"
    detail = api_client_for(alice).get(f"{ACCOUNTS}{rich_account.pk}/").json()
    assert detail["balance"] == "30000.00" and detail["available"] == "25000.00"


@pytest.mark.parametrize("url", [DEPOSITS, WITHDRAWALS])
@pytest.mark.parametrize("amount", ["0", "-5", "1e3", "12.345", 12.5, " 12"])
def test_cash_refuses_bad_amounts(api_client_for, agnes, alice_account, api_unchanged, url, amount):
    with api_unchanged():
        assert_error(cash(api_client_for(agnes), url, alice_account, amount), 400, "validation_error",
                     fields={"amount"})


@pytest.mark.parametrize("url", [DEPOSITS, WITHDRAWALS])
def test_cash_to_an_unknown_or_internal_account(api_client_for, agnes, alice_account, api_unchanged, url):
    vault = internal_account(AccountKind.CASH, "EUR")
    client = api_client_for(agnes)
    with api_unchanged():
        assert_error(post(client, url, {"account": 999999999, "amount": "1.00"}, key=idempotency_key()), 404,
                     "not_found")
        assert_error(cash(client, url, vault, "1.00"), 422, "unknown_account")


def test_a_withdrawal_beyond_the_balance_is_422(api_client_for, agnes, alice_account, api_unchanged):
    with api_unchanged():
        assert_error(cash(api_client_for(agnes), WITHDRAWALS, alice_account, "1000.01"), 422,
                     "insufficient_funds")


# --- Transactions ----------------------------------------------------------------------------


def test_both_parties_and_staff_see_a_transaction_but_not_a_third_customer(
    api_client_for, alice, bob, carol, agnes, sam, alice_account, bob_account,
):
    txn = transfer(api_client_for(alice), alice_account, bob_account, "7.00").json()
    url = f"{API}transactions/{txn['id']}/"
    for user in (alice, bob, agnes, sam):
        response = api_client_for(user).get(url)
        assert response.status_code == 200, user
        assert response.json() == txn
    assert_error(api_client_for(carol).get(url), 404, "not_found")
    assert_error(APIClient().get(url), 401, "not_authenticated")


def test_a_customer_sees_their_cash_operations(api_client_for, agnes, alice, bob, alice_account):
    txn = cash(api_client_for(agnes), DEPOSITS, alice_account, "3.00").json()
    assert api_client_for(alice).get(f"{API}transactions/{txn['id']}/").status_code == 200
    assert_error(api_client_for(bob).get(f"{API}transactions/{txn['id']}/"), 404, "not_found")


@pytest.mark.parametrize("pk", ["999999999", "abc", "0"])
def test_an_unknown_transaction_is_not_found(api_client_for, agnes, pk):
    assert_error(api_client_for(agnes).get(f"{API}transactions/{pk}/"), 404, "not_found")


# --- Approvals -------------------------------------------------------------------------------


def test_approvals_list_pending_transactions_oldest_first(api_client_for, agnes, sam, alice,
                                                          rich_account, bob_account, alice_account):
    as_alice = api_client_for(alice)
    first = transfer(as_alice, rich_account, bob_account, "10000.00").json()
    transfer(as_alice, rich_account, bob_account, "5.00")  # posted: not listed
    second = cash(api_client_for(agnes), DEPOSITS, alice_account, "6000.00").json()
    third = cash(api_client_for(agnes), WITHDRAWALS, rich_account, "5000.00").json()
    rejected = transfer(as_alice, rich_account, bob_account, "10000.01").json()
    post(api_client_for(sam), f"{API}transactions/{rejected['id']}/reject/", {"reason": "No"})
    for user in (agnes, sam):
        results = page(api_client_for(user).get(APPROVALS))
        assert [t["id"] for t in results] == [first["id"], second["id"], third["id"]]
        assert all(t["status"] == "pending" for t in results)


def test_approvals_are_staff_only(api_client_for, alice, pending_transfer):
    assert_error(api_client_for(alice).get(APPROVALS), 403, "permission_denied")
    assert_error(APIClient().get(APPROVALS), 401, "not_authenticated")


def decide(client, txn: dict, action: str, data: dict | None = None):
    return post(client, f"{API}transactions/{txn['id']}/{action}/", data)


@pytest.mark.parametrize("approver", ["agent", "supervisor"])
def test_another_staff_member_approves(api_client_for, agnes, sam, rich_account, bob_account,
                                       pending_transfer, approver):
    user = agnes if approver == "agent" else sam
    response = decide(api_client_for(user), pending_transfer, "approve")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "posted" and body["decided_by"] == user.pk and body["posted_at"]
    account = fresh(rich_account)
    assert account.balance == 18_000_00 and account.held == 0
    assert balance_of(bob_account) == 12_500_00
    assert AuditEvent.objects.filter(action=actions.TRANSACTION_APPROVED, target_id=str(body["id"])).count() == 1
    assert page(api_client_for(user).get(APPROVALS)) == []
    assert_ledger_consistent()


def test_the_initiator_cannot_approve_their_own_operation(api_client_for, agnes, rich_account, api_unchanged):
    client = api_client_for(agnes)
    pending = cash(client, WITHDRAWALS, rich_account, "6000.00").json()
    with api_unchanged():
        assert_error(decide(client, pending, "approve"), 403, "permission_denied")
        assert_error(decide(client, pending, "reject", {"reason": "Oops"}), 403, "permission_denied")


def test_approving_twice_is_409(api_client_for, agnes, sam, pending_transfer, api_unchanged):
    assert decide(api_client_for(sam), pending_transfer, "approve").status_code == 200
    with api_unchanged():
        assert_error(decide(api_client_for(agnes), pending_transfer, "approve"), 409, "not_pending")
        assert_error(decide(api_client_for(sam), pending_transfer, "approve"), 409, "not_pending")
        assert_error(decide(api_client_for(agnes), pending_transfer, "reject", {"reason": "Late"}), 409,
                     "not_pending")


def test_customers_cannot_decide(api_client_for, alice, bob, pending_transfer, api_unchanged):
    with api_unchanged():
        for user in (alice, bob):
            assert_error(decide(api_client_for(user), pending_transfer, "approve"), 403, "permission_denied")
            assert_error(decide(api_client_for(user), pending_transfer, "reject", {"reason": "x"}), 403,
                         "permission_denied")
        assert_error(decide(APIClient(), pending_transfer, "approve"), 401, "not_authenticated")


def test_deciding_an_unknown_transaction_is_404(api_client_for, agnes, api_unchanged):
    with api_unchanged():
        assert_error(decide(api_client_for(agnes), {"id": 999999999}, "approve"), 404, "not_found")
        assert_error(decide(api_client_for(agnes), {"id": "abc"}, "reject", {"reason": "x"}), 404, "not_found")


def test_reject_releases_the_hold(api_client_for, sam, alice, rich_account, bob_account,
                                  pending_transfer):
    assert api_client_for(alice).get(f"{ACCOUNTS}{rich_account.pk}/").json()["available"] == "18000.00"
    response = decide(api_client_for(sam), pending_transfer, "reject", {"reason": "Suspicious"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "rejected" and body["decision_reason"] == "Suspicious"
    assert body["decided_by"] == sam.pk and body["posted_at"] is None
    detail = api_client_for(alice).get(f"{ACCOUNTS}{rich_account.pk}/").json()
    assert detail["balance"] == "30000.00" and detail["available"] == "30000.00"
    assert balance_of(bob_account) == 500_00
    assert not Entry.objects.filter(transaction_id=body["id"]).exists()
    assert AuditEvent.objects.filter(action=actions.TRANSACTION_REJECTED).count() == 1


@pytest.mark.parametrize("data", [{}, {"reason": ""}, {"reason": "   "}, {"reason": "x" * 501}])
def test_reject_needs_a_reason(api_client_for, sam, pending_transfer, api_unchanged, data):
    with api_unchanged():
        assert_error(decide(api_client_for(sam), pending_transfer, "reject", data), 400,
                     "validation_error", fields={"reason"})


def test_approval_refused_when_an_account_was_frozen_meanwhile(api_client_for, agnes, sam,
                                                               bob_account, pending_transfer, api_unchanged):
    assert lifecycle(api_client_for(agnes), bob_account, "freeze").status_code == 200
    with api_unchanged():
        assert_error(decide(api_client_for(sam), pending_transfer, "approve"), 409, "account_frozen")


def test_an_expired_transaction_cannot_be_approved(api_client_for, sam, pending_transfer, api_unchanged):
    Transaction.objects.filter(pk=pending_transfer["id"]).update(expires_at=timezone.now() - timedelta(seconds=1))
    with api_unchanged():
        assert_error(decide(api_client_for(sam), pending_transfer, "approve"), 409, "not_pending")


def test_a_pending_transfer_past_its_ttl_is_voided_by_the_scheduler(api_client_for, alice, sam, pending_transfer,
                                                                     rich_account, api_unchanged):
    """DESIGN.md: not approved within FLUX_PENDING_TTL_DAYS, it is voided by the scheduler; the API
    says `voided` (the audit action stays `transaction.expired`)."""
    url = f"{API}transactions/{pending_transfer['id']}/"
    Transaction.objects.filter(pk=pending_transfer["id"]).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert fresh(rich_account).held == 12_000_00

    assert expire_pending() == 1  # the scheduler's job (settings.FLUX_SCHEDULE)

    for user in (alice, sam):
        response = api_client_for(user).get(url)
        assert response.status_code == 200, user
        assert response.json()["status"] == "voided"
        assert response.json()["posted_at"] is None
    assert fresh(rich_account).held == 0
    assert [t["id"] for t in page(api_client_for(alice).get(TRANSFERS, {"status": "voided"}))] == [
        pending_transfer["id"]]
    assert page(api_client_for(alice).get(TRANSFERS, {"status": "pending"})) == []
    [event] = AuditEvent.objects.filter(target_id=str(pending_transfer["id"]), action=actions.TRANSACTION_EXPIRED)
    assert event.actor is None
    with api_unchanged():
        assert_error(decide(api_client_for(sam), pending_transfer, "approve"), 409, "not_pending")


def test_approve_with_an_idempotency_key_replays(api_client_for, sam, pending_transfer, rich_account):
    client = api_client_for(sam)
    key = idempotency_key()
    url = f"{API}transactions/{pending_transfer['id']}/approve/"
    first = client.post(url, {}, format="json", headers={"Idempotency-Key": key})
    second = client.post(url, {}, format="json", headers={"Idempotency-Key": key})
    assert first.status_code == second.status_code == 200
    assert second.json() == first.json() and second["Idempotent-Replayed"] == "true"
    assert fresh(rich_account).balance == 18_000_00


# --- Reversals -------------------------------------------------------------------------------


def reverse(client, txn: dict, reason: str | None = "Customer complaint"):
    return decide(client, txn, "reverse", {} if reason is None else {"reason": reason})


def test_a_reversal_waits_for_another_member_of_staff(api_client_for, alice, agnes, sam,
                                                       alice_account, bob_account):
    original = transfer(api_client_for(alice), alice_account, bob_account, "40.00").json()

    response = reverse(api_client_for(agnes), original)

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["kind"] == "reversal" and body["status"] == "pending" and body["reverses"] == original["id"]
    assert body["amount"] == "40.00" and body["posted_at"] is None and body["expires_at"]
    assert body["source_account"] == bob_account.pk and body["destination_account"] == alice_account.pk
    assert body["initiated_by"] == agnes.pk and body["decided_by"] is None
    # Nothing moved yet; bob's 40.00 are held.
    assert (balance_of(alice_account), balance_of(bob_account)) == (960_00, 540_00)
    assert fresh(bob_account).held == 40_00
    detail = api_client_for(alice).get(f"{API}transactions/{original['id']}/").json()
    assert (detail["status"], detail["reversed_by"], detail["reversal_status"]) == ("posted", body["id"], "pending")
    # The queue lists it with its original.
    queued = {row["id"]: row for row in page(api_client_for(sam).get(APPROVALS))}
    assert queued[body["id"]]["kind"] == "reversal" and queued[body["id"]]["reverses"] == original["id"]

    approved = decide(api_client_for(sam), body, "approve")

    assert approved.status_code == 200, approved.content
    assert approved.json()["status"] == "posted" and approved.json()["decided_by"] == sam.pk
    assert (balance_of(alice_account), balance_of(bob_account)) == (1_000_00, 500_00)
    assert fresh(bob_account).held == 0
    detail = api_client_for(alice).get(f"{API}transactions/{original['id']}/").json()
    assert (detail["reversed_by"], detail["reversal_status"]) == (body["id"], "posted")
    assert AuditEvent.objects.filter(action=actions.TRANSACTION_REVERSED, target_id=str(original["id"])).count() == 1
    assert body["id"] not in {row["id"] for row in page(api_client_for(sam).get(APPROVALS))}
    assert_ledger_consistent()


def test_the_initiator_of_a_reversal_cannot_decide_it(api_client_for, agnes, sam, alice_account,
                                                      api_unchanged):
    """Finding 3: an agent reversed her own cash withdrawal alone. Now she cannot approve (or reject)
    the reversal she asked for; another member of staff can."""
    withdrawal = cash(api_client_for(agnes), WITHDRAWALS, alice_account, "300.00").json()
    reversal = reverse(api_client_for(agnes), withdrawal, "Counted wrong").json()
    assert reversal["status"] == "pending" and balance_of(alice_account) == 700_00

    with api_unchanged():
        assert_error(decide(api_client_for(agnes), reversal, "approve"), 403, "permission_denied")
        assert_error(decide(api_client_for(agnes), reversal, "reject", {"reason": "Mine"}), 403,
                     "permission_denied")

    assert decide(api_client_for(sam), reversal, "approve").json()["status"] == "posted"
    assert balance_of(alice_account) == 1_000_00
    assert_ledger_consistent()


def test_a_rejected_reversal_releases_its_hold_and_allows_another(api_client_for, agnes, sam,
                                                                 bob_account, api_unchanged):
    deposit = cash(api_client_for(agnes), DEPOSITS, bob_account, "100.00").json()
    reversal = reverse(api_client_for(agnes), deposit).json()
    assert fresh(bob_account).held == 100_00
    with api_unchanged():
        assert_error(reverse(api_client_for(sam), deposit), 409, "already_reversed")

    rejected = decide(api_client_for(sam), reversal, "reject", {"reason": "Not a mistake"})

    assert rejected.status_code == 200 and rejected.json()["status"] == "rejected"
    assert (balance_of(bob_account), fresh(bob_account).held) == (600_00, 0)
    detail = api_client_for(sam).get(f"{API}transactions/{deposit['id']}/").json()
    assert (detail["reversed_by"], detail["reversal_status"]) == (None, None)
    again = reverse(api_client_for(sam), deposit)
    assert again.status_code == 201 and again.json()["status"] == "pending"


def test_a_transaction_is_reversed_at_most_once(api_client_for, alice, agnes, sam,
                                                alice_account, bob_account, api_unchanged):
    original = transfer(api_client_for(alice), alice_account, bob_account, "40.00").json()
    reversal = reverse(api_client_for(agnes), original).json()
    with api_unchanged():
        assert_error(reverse(api_client_for(sam), original), 409, "already_reversed")
        assert_error(reverse(api_client_for(sam), reversal), 409, "not_reversible")
    decide(api_client_for(sam), reversal, "approve")
    with api_unchanged():
        assert_error(reverse(api_client_for(sam), original), 409, "already_reversed")
        assert_error(reverse(api_client_for(agnes), reversal), 409, "not_reversible")


def test_only_posted_transactions_are_reversed(api_client_for, sam, pending_transfer, api_unchanged):
    with api_unchanged():
        assert_error(reverse(api_client_for(sam), pending_transfer), 409, "not_posted")


def test_a_reversal_that_would_overdraw_is_refused(api_client_for, agnes, sam, bob,
                                                   alice_account, bob_account, api_unchanged):
    deposit = cash(api_client_for(agnes), DEPOSITS, bob_account, "100.00").json()
    assert transfer(api_client_for(bob), bob_account, alice_account, "600.00").status_code == 201
    with api_unchanged():
        assert_error(reverse(api_client_for(sam), deposit), 422, "insufficient_funds")


def test_a_reversal_touching_a_frozen_account_is_refused(api_client_for, alice, agnes, sam,
                                                         alice_account, bob_account, api_unchanged):
    original = transfer(api_client_for(alice), alice_account, bob_account, "40.00").json()
    assert lifecycle(api_client_for(agnes), bob_account, "freeze").status_code == 200
    with api_unchanged():
        assert_error(reverse(api_client_for(sam), original), 409, "account_frozen")


@pytest.mark.parametrize("reason", [None, "", "  "])
def test_a_reversal_needs_a_reason(api_client_for, alice, sam, alice_account, bob_account,
                                   api_unchanged, reason):
    original = transfer(api_client_for(alice), alice_account, bob_account, "40.00").json()
    with api_unchanged():
        assert_error(reverse(api_client_for(sam), original, reason), 400, "validation_error",
                     fields={"reason"})


def test_reversals_are_staff_only(api_client_for, alice, bob, alice_account, bob_account,
                                  api_unchanged):
    original = transfer(api_client_for(alice), alice_account, bob_account, "40.00").json()
    with api_unchanged():
        assert_error(reverse(api_client_for(alice), original), 403, "permission_denied")
        assert_error(reverse(api_client_for(bob), original), 403, "permission_denied")
        assert_error(reverse(APIClient(), original), 401, "not_authenticated")
        assert_error(reverse(api_client_for(alice), {"id": 999999999}), 403, "permission_denied")


def test_reversing_an_unknown_transaction_is_404(api_client_for, sam, api_unchanged):
    with api_unchanged():
        assert_error(reverse(api_client_for(sam), {"id": 999999999}), 404, "not_found")


def test_reversing_an_external_transfer(api_client_for, alice, agnes, sam, alice_account):
    original = transfer(api_client_for(alice), alice_account, EXTERNAL_IBAN, "100.00").json()
    response = reverse(api_client_for(sam), original)
    assert response.status_code == 201, response.content
    assert balance_of(alice_account) == 900_00  # nothing back before the approval
    assert decide(api_client_for(agnes), response.json(), "approve").status_code == 200
    assert balance_of(alice_account) == 1_000_00
    assert balance_of(internal_account(AccountKind.CLEARING, "EUR")) == 0
    assert_ledger_consistent()
