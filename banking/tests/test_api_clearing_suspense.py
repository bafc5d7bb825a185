"""The suspense and reconciliation API: supervisors only; the item's shape; assign and send back with
an Idempotency-Key (replayed, not applied twice), refusals in the error shape changing nothing; the
reconciliation day figure and recent days."""

from __future__ import annotations

import datetime as dt

import pytest

from audit.models import AuditEvent
from banking.ledger import internal_account
from banking.models import AccountKind, StatementEntryOutcome, Transaction, TransactionKind
from banking.tests.clearing_factories import PAYER_IBAN, make_entry, make_statement, place_in_suspense
from banking.tests.factories import fresh
from core.testing.api import API, assert_error, idempotency_key, page, post
from core.testing.request_ids import request_data

pytestmark = pytest.mark.django_db

SUSPENSE = f"{API}clearing/suspense/"
RECONCILIATION = f"{API}clearing/reconciliation/"
ITEM_FIELDS = {"id", "amount", "currency", "reason", "status", "debtor_name", "debtor_iban", "creditor_iban",
               "reference", "booking_date", "statement", "resolution", "created_at"}


@pytest.fixture
def item(sam, clearing):
    internal_account(AccountKind.SUSPENSE, "EUR")
    return place_in_suspense(by=sam, amount=250_00, booking_date=dt.date(2026, 11, 20))


def test_supervisors_list_open_items_with_their_entry(api_client_for, sam, item):
    [row] = page(api_client_for(sam).get(SUSPENSE))
    assert set(row) == ITEM_FIELDS
    assert row | {"created_at": None} == {
        "id": item.pk, "amount": "250.00", "currency": "EUR", "reason": "unknown_account", "status": "open",
        "debtor_name": "Jean Dupont", "debtor_iban": PAYER_IBAN, "creditor_iban": "NL02FLUX0000000000",
        "reference": "Invoice 42", "booking_date": "2026-11-20", "statement": item.entry.statement_id,
        "resolution": None, "created_at": None,
    }
    assert page(api_client_for(sam).get(SUSPENSE, {"status": "resolved"})) == []
    assert_error(api_client_for(sam).get(SUSPENSE, {"status": "closed"}), 400, "validation_error", fields={"status"})


@pytest.mark.parametrize("who", ["agnes", "alice"])
def test_agents_and_customers_get_403_everywhere(request, api_client_for, who, item, alice_account, api_unchanged):
    client = api_client_for(request.getfixturevalue(who))
    with api_unchanged():
        assert_error(client.get(SUSPENSE), 403, "permission_denied")
        assert_error(post(client, f"{SUSPENSE}{item.pk}/assign/", {"account": alice_account.pk},
                          key=idempotency_key()), 403, "permission_denied")
        assert_error(post(client, f"{SUSPENSE}{item.pk}/send-back/", {}, key=idempotency_key()), 403,
                     "permission_denied")
        assert_error(client.get(RECONCILIATION), 403, "permission_denied")
    assert_error(api_client_for(None).get(SUSPENSE), 401, "not_authenticated")


def test_assign_answers_the_resolved_item_and_a_retry_replays_it(api_client_for, sam, item, bob_account):
    client = api_client_for(sam)
    before = fresh(bob_account).balance
    key = idempotency_key()
    response = post(client, f"{SUSPENSE}{item.pk}/assign/", {"account": bob_account.pk}, key=key)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "resolved" and body["resolution"]["status"] == "posted"
    assert body["resolution"]["kind"] == "incoming_transfer"
    assert body["resolution"]["destination_iban"] == bob_account.iban
    again = post(client, f"{SUSPENSE}{item.pk}/assign/", {"account": bob_account.pk}, key=key)
    assert again.status_code == 201 and again["Idempotent-Replayed"] == "true" and again.json() == body
    assert fresh(bob_account).balance == before + 250_00
    [event] = AuditEvent.objects.filter(action="suspense.assigned")
    assert request_data(event, response)["account"] == bob_account.iban
    # A new key: the item is no longer open.
    assert_error(post(client, f"{SUSPENSE}{item.pk}/assign/", {"account": bob_account.pk}, key=idempotency_key()),
                 409, "not_open")


def test_assign_above_the_threshold_answers_pending(api_client_for, sam, bob_account, clearing):
    internal_account(AccountKind.SUSPENSE, "EUR")
    big = place_in_suspense(by=sam, amount=15_000_00)
    response = post(api_client_for(sam), f"{SUSPENSE}{big.pk}/assign/", {"account": bob_account.pk},
                    key=idempotency_key())
    assert response.status_code == 201
    assert response.json()["status"] == "pending" and response.json()["resolution"]["status"] == "pending"
    [pending] = page(api_client_for(sam).get(SUSPENSE, {"status": "pending"}))
    assert pending["id"] == big.pk


def test_assign_refusals_in_the_error_shape_change_nothing(api_client_for, sam, item, bob, api_unchanged):
    client = api_client_for(sam)
    with api_unchanged():
        assert_error(post(client, f"{SUSPENSE}{item.pk}/assign/", {"account": 999999}, key=idempotency_key()),
                     404, "not_found")
        assert_error(post(client, f"{SUSPENSE}999999/assign/", {"account": 1}, key=idempotency_key()),
                     404, "not_found")
        assert_error(post(client, f"{SUSPENSE}{item.pk}/assign/", {}, key=idempotency_key()), 400,
                     "validation_error", fields={"account"})
        assert_error(post(client, f"{SUSPENSE}{item.pk}/assign/", {"account": 1}), 400, "idempotency_key_missing")


def test_send_back_answers_the_item_and_the_transfer_waits_for_the_next_run(api_client_for, sam, item):
    response = post(api_client_for(sam), f"{SUSPENSE}{item.pk}/send-back/", {"reason": "Unknown payee"},
                    key=idempotency_key())
    assert response.status_code == 201, response.content
    resolution = response.json()["resolution"]
    assert resolution["kind"] == "external_transfer" and resolution["destination_iban"] == PAYER_IBAN
    txn = Transaction.objects.get(pk=resolution["id"])
    assert txn.kind == TransactionKind.EXTERNAL_TRANSFER and txn.clearing_run_id is None
    [event] = AuditEvent.objects.filter(action="suspense.sent_back")
    assert request_data(event, response)["reason"] == "Unknown payee"


def test_send_back_without_the_payers_iban_is_422(api_client_for, sam, clearing, api_unchanged):
    internal_account(AccountKind.SUSPENSE, "EUR")
    nameless = place_in_suspense(by=sam, amount=10_00, debtor_iban="")
    with api_unchanged():
        assert_error(post(api_client_for(sam), f"{SUSPENSE}{nameless.pk}/send-back/", {}, key=idempotency_key()),
                     422, "invalid_iban")


def test_reconciliation_day_and_recent_days(api_client_for, sam, item):
    statement = make_statement(by=sam, opening=0, closing=245_00, closing_date=dt.date(2026, 11, 20))
    make_entry(statement, amount=-5_00, outcome=StatementEntryOutcome.UNMATCHED, booking_date=dt.date(2026, 11, 20))
    client = api_client_for(sam)
    response = client.get(RECONCILIATION, {"date": "2026-11-20", "currency": "eur"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["date"] == "2026-11-20" and body["currency"] == "EUR"
    assert body["statement"]["net"] == "245.00" and body["statement"]["balance_check"] is True
    assert body["flux"]["money_in"] == {"count": 1, "amount": "250.00"} and body["flux"]["net"] == "250.00"
    assert body["difference"] == "-5.00" and body["unexplained"] == "0.00"
    assert body["unmatched_statement"]["count"] == 1 and body["unmatched_statement"]["entries"][0]["amount"] == "-5.00"
    assert body["clearing_account"]["money_in"]["amount"] == "250.00" and body["clearing_account"]["other"] == "0.00"

    [day] = page(client.get(RECONCILIATION))
    assert day == {"date": "2026-11-20", "currency": "EUR", "statement_entries": 2, "statement_net": "245.00",
                   "flux_net": "250.00", "difference": "-5.00", "balance_check": True, "unmatched_statement": 1}
    assert_error(client.get(RECONCILIATION, {"date": "20/11/2026"}), 400, "validation_error", fields={"date"})
    assert_error(client.get(RECONCILIATION, {"currency": "EURO"}), 400, "validation_error", fields={"currency"})


def test_a_pending_assignment_is_in_the_approvals_list_to_the_customers_account(api_client_for, sam, agnes,
                                                                                bob_account, clearing):
    internal_account(AccountKind.SUSPENSE, "EUR")
    big = place_in_suspense(by=sam, amount=15_000_00)
    response = post(api_client_for(sam), f"{SUSPENSE}{big.pk}/assign/", {"account": bob_account.pk},
                    key=idempotency_key())
    txn_id = response.json()["resolution"]["id"]
    [pending] = page(api_client_for(agnes).get(f"{API}approvals/"))
    assert pending["id"] == txn_id and pending["kind"] == "incoming_transfer"
    assert pending["destination_iban"] == bob_account.iban and pending["source_account"] == big.placement.destination_id
    rejected = post(api_client_for(agnes), f"{API}transactions/{txn_id}/reject/", {"reason": "Wrong account"})
    assert rejected.status_code == 200, rejected.content
    [reopened] = page(api_client_for(sam).get(SUSPENSE))
    assert reopened["id"] == big.pk and reopened["status"] == "open" and reopened["resolution"]["status"] == "rejected"
