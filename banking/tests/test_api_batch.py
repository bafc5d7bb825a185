"""POST /api/v1/transfers/batch/ on PostgreSQL: per-item outcomes in order (posted, pending,
refused), running balances within a batch, all or nothing with `atomic`, idempotency of the
whole batch, the item limit and body limit, and concurrent batches over overlapping accounts."""

from __future__ import annotations

import json
import random

import pytest
from django.db import connection
from django.db.models import Sum

from audit import actions
from audit.models import AuditEvent
from banking.ledger import internal_account
from banking.models import Account, AccountKind, Entry, Transaction, TransactionStatus
from banking.services import account_freeze
from banking.tests.factories import EXTERNAL_IBAN
from banking.tests.ledger import assert_ledger_consistent
from banking.tests.support import balance_of
from banking.tests.test_api_concurrency import run_threads
from core.testing.api import API, assert_error, client_for, idempotency_key, obtain_tokens, post

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL (row locks)"),
]

BATCH = f"{API}transfers/batch/"



def item(source: Account, destination: Account | str, amount: str, **extra) -> dict:
    iban = destination.iban if isinstance(destination, Account) else destination
    return {"source_account": source.pk, "destination_iban": iban, "amount": amount} | extra


def unknown_flux_iban() -> str:
    from banking.iban import generate_flux_iban

    iban = generate_flux_iban()
    assert not Account.objects.filter(iban=iban).exists()
    return iban


@pytest.mark.django_db
def test_each_item_has_its_outcome_in_order(
    api_client_for, alice, bob, agnes, open_account, bob_account, carol_account
):
    source = open_account(alice, balance=30_000_00)
    frozen = open_account(alice, balance=100_00)
    account_freeze(actor=agnes, account_id=frozen.pk, reason="Lost card")
    clearing_before = balance_of(internal_account(AccountKind.CLEARING, "EUR"))
    bob_before, carol_before = balance_of(bob_account), balance_of(carol_account)
    client = api_client_for(alice)  # signed in before counting: the sign-in is audited too
    events_before = AuditEvent.objects.count()
    body = {"transfers": [
        item(source, bob_account, "100.00", reference="Rent"),          # 0 posted
        item(source, carol_account, "50000.00"),                        # 1 insufficient_funds
        item(frozen, bob_account, "10.00"),                             # 2 account_frozen
        item(source, unknown_flux_iban(), "10.00"),                     # 3 unknown_account
        item(bob_account, carol_account, "10.00"),                      # 4 another's source: not_found
        item(source, EXTERNAL_IBAN, "12000.00", reference="Car"),       # 5 pending, held
        item(source, carol_account, "25.00"),                           # 6 posted
        item(source, "not an iban", "1.00"),                            # 7 invalid_iban
        item(source, carol_account, "-1"),                              # 8 validation_error
    ]}
    response = post(client, BATCH, body, key=idempotency_key())
    assert response.status_code == 200, response.content
    results = response.json()["results"]
    assert [r["status"] for r in results] == [
        "posted", "refused", "refused", "refused", "refused", "pending", "posted", "refused", "refused"]
    assert [r["error"]["code"] for r in results if r["status"] == "refused"] == [
        "insufficient_funds", "account_frozen", "unknown_account", "not_found", "invalid_iban", "validation_error"]
    assert "amount" in results[8]["error"]["fields"]
    assert results[0]["transaction"]["amount"] == "100.00"
    assert results[0]["transaction"]["destination_iban"] == bob_account.iban
    assert results[5]["transaction"]["status"] == "pending"
    # Exactly three transactions exist for the batch, two posted with their entries, one held.
    txns = Transaction.objects.filter(source=source).order_by("pk")
    assert [(t.status, t.amount, t.hold_amount) for t in txns] == [
        (TransactionStatus.POSTED, 100_00, 0), (TransactionStatus.PENDING, 12_000_00, 12_000_00),
        (TransactionStatus.POSTED, 25_00, 0)]
    assert [t["transaction"]["id"] for t in (results[0], results[5], results[6])] == [t.pk for t in txns]
    source.refresh_from_db()
    assert source.balance == 30_000_00 - 125_00 and source.held == 12_000_00
    assert balance_of(bob_account) == bob_before + 100_00
    assert balance_of(carol_account) == carol_before + 25_00
    assert balance_of(frozen) == 100_00
    assert balance_of(internal_account(AccountKind.CLEARING, "EUR")) == clearing_before  # pending: not posted
    assert Entry.objects.filter(transaction__in=txns).count() == 4
    # One audit event per applied item, none for the refused ones.
    new_events = list(AuditEvent.objects.order_by("pk")[events_before:].values_list("action", "target_id"))
    assert new_events == [
        (actions.TRANSACTION_POSTED, str(txns[0].pk)), (actions.TRANSACTION_PENDING, str(txns[1].pk)),
        (actions.TRANSACTION_POSTED, str(txns[2].pk))]
    assert_ledger_consistent()


@pytest.mark.django_db
def test_a_later_item_is_refused_once_earlier_items_spent_the_money(
    api_client_for, alice, alice_account, bob_account
):
    # Alice has 1000.00: 600 posts, the next 600 would overdraw, the last 400 fits exactly.
    amounts = ("600.00", "600.00", "400.00")
    body = {"transfers": [item(alice_account, bob_account, amount) for amount in amounts]}
    response = post(api_client_for(alice), BATCH, body, key=idempotency_key())
    assert response.status_code == 200, response.content
    results = response.json()["results"]
    assert [r["status"] for r in results] == ["posted", "refused", "posted"]
    assert results[1]["error"]["code"] == "insufficient_funds"
    assert balance_of(alice_account) == 0
    assert_ledger_consistent()


@pytest.mark.django_db
def test_atomic_batch_with_a_refused_item_applies_nothing(
    api_client_for, alice, alice_account, bob_account, carol_account, api_unchanged
):
    body = {"atomic": True, "transfers": [
        item(alice_account, bob_account, "600.00"),
        item(alice_account, carol_account, "600.00"),
        item(alice_account, EXTERNAL_IBAN, "12000.00"),
        item(alice_account, carol_account, "1.00"),
    ]}
    client = api_client_for(alice)
    with api_unchanged():
        response = post(client, BATCH, body, key=idempotency_key())
    error = assert_error(response, 422, "batch_refused")
    assert error["items"] == [
        {"index": 1, "code": "insufficient_funds", "message": error["items"][0]["message"]},
        {"index": 2, "code": "insufficient_funds", "message": error["items"][1]["message"]},
    ]
    # The same batch without the overdrawing items applies whole.
    body["transfers"] = [body["transfers"][0], body["transfers"][3]]
    response = post(client, BATCH, body, key=idempotency_key())
    assert response.status_code == 200, response.content
    assert [r["status"] for r in response.json()["results"]] == ["posted", "posted"]
    assert balance_of(alice_account) == 1_000_00 - 601_00


@pytest.mark.django_db
def test_replay_with_the_same_key_moves_nothing_again(
    api_client_for, alice, alice_account, bob_account, api_unchanged
):
    client = api_client_for(alice)
    key = idempotency_key()
    body = {"transfers": [item(alice_account, bob_account, "10.00"),
                          item(alice_account, bob_account, "5000.00")]}
    first = post(client, BATCH, body, key=key)
    assert first.status_code == 200
    with api_unchanged():
        again = post(client, BATCH, body, key=key)
    assert again.status_code == 200 and again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert balance_of(alice_account) == 990_00
    # Another body under the same key is refused, and changes nothing.
    with api_unchanged():
        other = post(client, BATCH, {"transfers": [item(alice_account, bob_account, "11.00")]}, key=key)
    assert_error(other, 422, "idempotency_key_reused")


@pytest.mark.django_db
def test_a_refused_atomic_batch_replays_with_its_items(api_client_for, alice, alice_account, bob_account):
    client = api_client_for(alice)
    key = idempotency_key()
    body = {"atomic": True, "transfers": [item(alice_account, bob_account, "5000.00")]}
    first = post(client, BATCH, body, key=key)
    assert_error(first, 422, "batch_refused")
    again = post(client, BATCH, body, key=key)
    assert again.status_code == 422 and again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json() and again.json()["error"]["items"][0]["index"] == 0


@pytest.mark.django_db
def test_batch_needs_a_key_and_between_one_and_a_thousand_items(
    api_client_for, alice, alice_account, bob_account, api_unchanged
):
    client = api_client_for(alice)
    one = item(alice_account, bob_account, "0.01")
    with api_unchanged():
        assert_error(post(client, BATCH, {"transfers": [one]}), 400, "idempotency_key_missing")
        too_many = post(client, BATCH, {"transfers": [one] * 1001}, key=idempotency_key())
        assert_error(too_many, 400, "validation_error", fields={"transfers"})
        assert_error(post(client, BATCH, {"transfers": []}, key=idempotency_key()), 400, "validation_error")


@pytest.mark.django_db
def test_a_full_batch_of_a_thousand_passes_the_body_limit(
    api_client_for, alice, open_account, bob_account, settings
):
    source = open_account(alice, balance=10_000_00)
    body = {"transfers": [item(source, bob_account, "0.01", reference="x" * 140)] * 1000}
    assert len(json.dumps(body)) > settings.FLUX_API_MAX_BODY_BYTES  # the ordinary API limit would refuse it
    response = post(api_client_for(alice), BATCH, body, key=idempotency_key())
    assert response.status_code == 200, response.content[:500]
    assert [r["status"] for r in response.json()["results"]] == ["posted"] * 1000
    assert balance_of(source) == 10_000_00 - 10_00
    assert_ledger_consistent()


@pytest.mark.django_db
def test_staff_may_batch_from_any_customer_account(
    api_client_for, agnes, alice_account, bob_account, carol_account
):
    body = {"transfers": [item(alice_account, carol_account, "1.00"),
                          item(bob_account, carol_account, "2.00")]}
    response = post(api_client_for(agnes), BATCH, body, key=idempotency_key())
    assert response.status_code == 200, response.content
    assert [r["status"] for r in response.json()["results"]] == ["posted", "posted"]
    assert balance_of(carol_account) == 3_00


@pytest.mark.django_db(transaction=True)
def test_concurrent_batches_in_opposite_orders_conserve_money_without_deadlock(alice, open_account):
    accounts = [open_account(alice, balance=1_000_00) for _ in range(6)]
    total_before = Account.objects.aggregate(total=Sum("balance"))["total"]
    access = obtain_tokens(alice)["access"]
    rounds = 4

    def work(i, barrier):
        client = client_for(None, access=access)
        rng = random.Random(i)
        ordered = accounts if i % 2 == 0 else accounts[::-1]
        statuses = []
        barrier.wait()
        for _ in range(rounds):
            transfers = []
            for a, b in zip(ordered, ordered[1:] + ordered[:1], strict=True):
                transfers.append(item(a, b, f"{rng.randint(1, 300)}.00"))
            statuses.append(post(client, BATCH, {"transfers": transfers}, key=idempotency_key()).status_code)
        return statuses

    results = run_threads(6, work)
    assert all(code == 200 for statuses in results for code in statuses), results
    assert Account.objects.aggregate(total=Sum("balance"))["total"] == total_before
    assert all(account.available >= 0 for account in Account.objects.filter(pk__in=[a.pk for a in accounts]))
    assert Transaction.objects.filter(source__in=accounts, status=TransactionStatus.POSTED).exists()
    assert_ledger_consistent()


@pytest.mark.django_db
def test_a_batch_over_its_own_body_limit_is_refused_unapplied(
    api_client_for, alice, alice_account, bob_account, api_unchanged, settings
):
    settings.FLUX_API_MAX_BATCH_BYTES = 1000
    body = {"transfers": [item(alice_account, bob_account, "0.01", reference="y" * 100)] * 10}
    assert len(json.dumps(body)) > 1000
    client = api_client_for(alice)
    with api_unchanged():
        response = post(client, BATCH, body, key=idempotency_key())
    assert_error(response, 413, "request_too_large")


@pytest.mark.django_db
def test_each_more_item_costs_six_statements(api_client_for, alice, open_account, bob_account):
    """Per item: the transaction, the two balances, the entries, the audit event and its outbox row.
    The source's access check and the destination's lookup are read once per batch, not per item."""
    from django.test.utils import CaptureQueriesContext

    source = open_account(alice, balance=1_000_00)
    client = api_client_for(alice)
    counts = {}
    for size in (1, 100):
        body = {"transfers": [item(source, bob_account, "0.01")] * size}
        with CaptureQueriesContext(connection) as queries:
            assert post(client, BATCH, body, key=idempotency_key()).status_code == 200
        counts[size] = len(queries.captured_queries)
    assert counts[100] - counts[1] <= 99 * 6, counts
