"""Account actions with a reason (freeze, unfreeze, close, the supervisor's overdraft), cash at
the counter with its token, confirmation and receipt, and reversals at most once. Each refusal is
said on the page and changes nothing."""

from __future__ import annotations

import re

import pytest

from audit import actions
from audit.models import AuditEvent
from banking.models import Account, AccountStatus, Transaction, TransactionStatus
from banking.services import account_freeze, transaction_approve, transaction_reverse
from banking.tests.factories import fund
from core.models import IdempotencyKey
from workspace.tests.desk_support import client_for, form_token

pytestmark = pytest.mark.django_db


def act(client, account, action, **data):
    return client.post(f"/agent/accounts/{account.pk}/{action}/", data)


# --- Freeze, unfreeze, close ------------------------------------------------------------------


def test_freeze_then_unfreeze_with_reasons(agnes, alice_account):
    client = client_for(agnes)
    assert act(client, alice_account, "freeze", reason="Card stolen").status_code == 302
    alice_account.refresh_from_db()
    assert alice_account.status == AccountStatus.FROZEN
    assert AuditEvent.objects.get(action=actions.ACCOUNT_FROZEN).data["reason"] == "Card stolen"
    assert act(client, alice_account, "unfreeze", reason="Card found").status_code == 302
    alice_account.refresh_from_db()
    assert alice_account.status == AccountStatus.ACTIVE


def test_an_action_without_a_reason_is_refused(agnes, alice_account, unchanged):
    with unchanged():
        response = act(client_for(agnes), alice_account, "freeze", reason="   ")
    assert response.status_code == 400
    assert 'id="status-reason-error"' in response.content.decode()


def test_closing_an_account_with_money_is_refused_on_the_page(agnes, alice_account, unchanged):
    with unchanged():
        response = act(client_for(agnes), alice_account, "close", reason="Moving abroad")
    assert response.status_code == 409
    assert "Only an account with a zero balance and nothing pending can be closed." in response.content.decode()


def test_closing_an_empty_account(agnes, open_account, alice):
    empty = open_account(alice)
    assert act(client_for(agnes), empty, "close", reason="Not used").status_code == 302
    empty.refresh_from_db()
    assert empty.status == AccountStatus.CLOSED


def test_unfreezing_an_active_account_is_refused(agnes, alice_account, unchanged):
    with unchanged():
        response = act(client_for(agnes), alice_account, "unfreeze", reason="x")
    assert response.status_code == 409
    assert "The account is not frozen." in response.content.decode()


def test_an_unknown_action_is_404(agnes, alice_account, unchanged):
    with unchanged():
        assert act(client_for(agnes), alice_account, "explode", reason="x").status_code == 404


# --- The overdraft limit: supervisors ----------------------------------------------------------


def test_a_supervisor_changes_the_overdraft_on_the_page(sam, alice_account):
    response = act(client_for(sam), alice_account, "overdraft", overdraft_limit="300.00", reason="Salary")
    assert response.status_code == 302
    assert Account.objects.get(pk=alice_account.pk).overdraft_limit == 300_00


def test_an_agent_cannot_change_the_overdraft(agnes, alice_account, unchanged):
    page = client_for(agnes).get(f"/agent/accounts/{alice_account.pk}/").content.decode()
    assert 'data-testid="overdraft-form"' not in page
    assert "A supervisor changes the overdraft limit." in page
    with unchanged():
        response = act(client_for(agnes), alice_account, "overdraft", overdraft_limit="300.00", reason="Salary")
    assert response.status_code == 403
    assert "Only a supervisor may set an overdraft limit." in response.content.decode()


def test_a_malformed_overdraft_is_refused(sam, alice_account, unchanged):
    with unchanged():
        response = act(client_for(sam), alice_account, "overdraft", overdraft_limit="-5", reason="x")
    assert response.status_code == 400
    assert 'id="overdraft-overdraft_limit-error"' in response.content.decode()


# --- Cash at the counter ---------------------------------------------------------------------


def cash_url(account) -> str:
    return f"/agent/accounts/{account.pk}/cash/"


def cash_fields(token: str, **overrides) -> dict:
    return {"token": token, "kind": "deposit", "amount": "150.00", "reference": "Counter", **overrides}


def test_a_deposit_goes_through_the_confirmation_to_the_receipt(agnes, alice_account):
    client = client_for(agnes)
    token = form_token(client, cash_url(alice_account))
    confirm = client.post(cash_url(alice_account), cash_fields(token))
    assert confirm.status_code == 200
    assert b'data-testid="cash-question"' in confirm.content
    assert not Transaction.objects.filter(reference="Counter").exists()  # nothing moves before confirming

    done = client.post(cash_url(alice_account), {**cash_fields(token), "step": "confirm"})
    txn = Transaction.objects.get(reference="Counter")
    assert done.status_code == 302 and done["Location"] == f"/agent/transactions/{txn.pk}/receipt/"
    receipt = client.get(done["Location"]).content.decode()
    assert 'data-status="posted"' in receipt and "150.00" in receipt and "1,150.00" in receipt
    assert "window.print" not in receipt  # the Print button calls an Alpine method (CSP build)
    assert 'x-on:click="printReceipt"' in receipt

    # The same token again (a double click, a resubmit): replayed, nothing moves twice.
    again = client.post(cash_url(alice_account), {**cash_fields(token), "step": "confirm"})
    assert again["Location"] == done["Location"]
    alice_account.refresh_from_db()
    assert alice_account.balance == 1_150_00
    assert IdempotencyKey.objects.filter(key__startswith="workspace-cash:").count() == 1


def test_a_withdrawal_above_the_balance_is_refused_and_changes_nothing(agnes, alice_account, unchanged):
    client = client_for(agnes)
    token = form_token(client, cash_url(alice_account))
    with unchanged():
        response = client.post(cash_url(alice_account), {**cash_fields(token, kind="withdrawal", amount="4000.00"),
                                                          "step": "confirm"})
    assert response.status_code == 422
    assert "There is not enough money available on this account." in response.content.decode()
    # The token holds the refusal (the answer to that confirmation); the form offers a new one.
    assert IdempotencyKey.objects.get().response_status == 422
    assert f'name="token" value="{token}"' not in response.content.decode()


def test_a_refused_cash_confirmation_sent_again_is_refused_again(agnes, sam, alice_account, unchanged):
    """Issue 10, finding 12, at the counter: the same confirmation sent again once the money is
    there repeats the refusal instead of paying out; the new token on the form does pay."""
    client = client_for(agnes)
    token = form_token(client, cash_url(alice_account))
    confirmation = {**cash_fields(token, kind="withdrawal", amount="1500.00"), "step": "confirm"}
    refused = client.post(cash_url(alice_account), confirmation)
    assert refused.status_code == 422
    new_token = re.search(r'name="token" value="([^"]+)"', refused.content.decode()).group(1)
    assert new_token != token
    fund(alice_account, 1_000_00, agent=sam, approver=agnes)

    with unchanged():
        again = client.post(cash_url(alice_account), confirmation)
    assert again.status_code == 422
    assert "There is not enough money available on this account." in again.content.decode()

    paid = client.post(cash_url(alice_account), {**confirmation, "token": new_token})
    assert paid.status_code == 302
    assert Account.objects.get(pk=alice_account.pk).balance == 500_00


def test_cash_on_a_frozen_account_is_refused(agnes, alice_account, unchanged):
    client = client_for(agnes)
    token = form_token(client, cash_url(alice_account))
    account_freeze(actor=agnes, account_id=alice_account.pk, reason="x")
    with unchanged():
        response = client.post(cash_url(alice_account), {**cash_fields(token), "step": "confirm"})
    assert response.status_code == 409
    assert "One of the accounts is frozen: no money can go in or out of it." in response.content.decode()


@pytest.mark.parametrize("amount", ["0", "-3", "1e3", "1.234", "abc"])
def test_a_malformed_amount_is_refused_on_the_form(agnes, alice_account, unchanged, amount):
    client = client_for(agnes)
    token = form_token(client, cash_url(alice_account))
    with unchanged():
        response = client.post(cash_url(alice_account), {**cash_fields(token, amount=amount), "step": "confirm"})
    assert response.status_code == 400
    assert 'id="cash-amount-error"' in response.content.decode()


@pytest.mark.parametrize(("language", "typed"), [("fr", "1 234,50"), ("fr", "1\u202f234,50"), ("fr", "1.234,50"),
                                                ("en", "1,234.50")])
def test_an_amount_in_the_display_format_of_the_language_at_the_counter(agnes, alice_account, language, typed):
    client = client_for(agnes)
    client.cookies["django_language"] = language
    token = form_token(client, cash_url(alice_account))

    done = client.post(cash_url(alice_account), {**cash_fields(token, amount=typed), "step": "confirm"})

    assert done.status_code == 302
    assert Account.objects.get(pk=alice_account.pk).balance == 1_000_00 + 1234_50


def test_an_amount_that_reads_two_ways_is_refused_at_the_counter(agnes, alice_account, unchanged):
    client = client_for(agnes)
    client.cookies["django_language"] = "fr"
    token = form_token(client, cash_url(alice_account))
    with unchanged():
        response = client.post(cash_url(alice_account), {**cash_fields(token, amount="1.234"), "step": "confirm"})
    assert response.status_code == 400
    assert "se lit de deux façons" in response.content.decode()


def test_a_large_deposit_is_pending_and_its_receipt_says_so(agnes, alice_account):
    client = client_for(agnes)
    token = form_token(client, cash_url(alice_account))
    assert b'data-testid="needs-approval"' in client.post(cash_url(alice_account),
                                                          cash_fields(token, amount="6000.00")).content
    done = client.post(cash_url(alice_account), {**cash_fields(token, amount="6000.00"), "step": "confirm"})
    receipt = client.get(done["Location"]).content.decode()
    assert 'data-status="pending"' in receipt
    alice_account.refresh_from_db()
    assert alice_account.balance == 1_000_00


# --- Reversals ---------------------------------------------------------------------------------


def test_a_reversal_waits_for_another_member_of_staff_and_blocks_a_second_one(agnes, sam, alice_account, unchanged):
    deposit = Transaction.objects.get(destination=alice_account)  # the opening deposit
    client = client_for(agnes)
    response = client.post(f"/agent/transactions/{deposit.pk}/reverse/", {"reason": "Counted twice"})
    assert response.status_code == 302
    reversal = Transaction.objects.get(reverses=deposit)
    assert reversal.status == TransactionStatus.PENDING and reversal.initiated_by == agnes
    assert reversal.reference == f"Reversal of #{deposit.pk}: Counted twice"
    alice_account.refresh_from_db()
    assert (alice_account.balance, alice_account.held) == (1_000_00, 1_000_00)  # held, not yet taken
    followed = client.get(response["Location"]).content.decode()
    assert f"Reversal #{reversal.pk} of transaction #{deposit.pk} waits for another member of staff" in followed
    page = client.get(f"/agent/transactions/{deposit.pk}/").content.decode()
    assert 'data-testid="reverse-form"' not in page and 'data-testid="reversal-pending"' in page
    assert f'href="/agent/transactions/{reversal.pk}/"' in page
    pending_page = client.get(f"/agent/transactions/{reversal.pk}/").content.decode()
    assert 'data-testid="pending-note"' in pending_page and f'href="/agent/transactions/{deposit.pk}/"' in pending_page
    # The account's entries and the customer's transactions say so too.
    assert "reversal pending" in client.get(f"/agent/accounts/{alice_account.pk}/").content.decode()
    assert "reversal pending" in client.get(f"/agent/customers/{alice_account.customer_id}/").content.decode()

    with unchanged():
        again = client_for(sam).post(f"/agent/transactions/{deposit.pk}/reverse/", {"reason": "Again"})
    assert again.status_code == 409
    assert "This transaction has already been reversed." in again.content.decode()

    transaction_approve(approver=sam, transaction_id=reversal.pk)
    alice_account.refresh_from_db()
    assert (alice_account.balance, alice_account.held) == (0, 0)
    page = client.get(f"/agent/transactions/{deposit.pk}/").content.decode()
    assert 'data-testid="reversal-pending"' not in page and "reversed by" in page
    account_page = client.get(f"/agent/accounts/{alice_account.pk}/").content.decode()
    assert "reversal pending" not in account_page and " · reversed" in account_page


def test_a_reversal_needs_a_reason(agnes, alice_account, unchanged):
    deposit = Transaction.objects.get(destination=alice_account)
    with unchanged():
        response = client_for(agnes).post(f"/agent/transactions/{deposit.pk}/reverse/", {"reason": ""})
    assert response.status_code == 400


def test_a_reversal_itself_cannot_be_reversed(agnes, alice_account, unchanged):
    deposit = Transaction.objects.get(destination=alice_account)
    reversal = transaction_reverse(actor=agnes, transaction_id=deposit.pk, reason="x")
    assert b'data-testid="reverse-form"' not in client_for(agnes).get(f"/agent/transactions/{reversal.pk}/").content
    with unchanged():
        response = client_for(agnes).post(f"/agent/transactions/{reversal.pk}/reverse/", {"reason": "y"})
    assert response.status_code == 409
    assert not Transaction.objects.filter(reverses=reversal).exists()
