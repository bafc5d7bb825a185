"""Concurrency through the REST API, on real PostgreSQL: idempotency under a storm of retries, and
random concurrent transfers that must neither lose money nor answer 5xx.

Each thread has its own APIClient (a real JWT obtained beforehand) and its own database connection,
which it closes at the end."""

from __future__ import annotations

import random
import threading
from collections import Counter
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import Sum
from rest_framework.test import APIClient

from banking.ledger import internal_account
from banking.models import Account, AccountKind, Entry, Transaction, TransactionStatus
from banking.tests.factories import EXTERNAL_IBAN
from banking.tests.ledger import assert_ledger_consistent
from banking.tests.support import TRANSFERS
from core.errors import ErrorCode
from core.models import IdempotencyKey
from core.testing.api import API, client_for, idempotency_key, obtain_tokens
from core.testing.threads import run_threads
from identity.tests.factories import make_user

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL (row locks, real concurrency)"),
]

THREADS = 10


def test_the_same_transfer_sent_at_once_with_one_key_moves_money_once(alice, bob, open_account):
    source = open_account(alice, balance=1_000_00)
    destination = open_account(bob, balance=0)
    access = obtain_tokens(alice)["access"]
    key = idempotency_key()
    body = {"source_account": source.pk, "destination_iban": destination.iban, "amount": "123.45",
            "reference": "Once"}

    def send(i: int, barrier: threading.Barrier):
        client = client_for(None, access=access)
        barrier.wait(timeout=30)
        response = client.post(TRANSFERS, body, format="json", headers={"Idempotency-Key": key})
        return response.status_code, response.json(), response.get("Idempotent-Replayed")

    results = run_threads(THREADS, send)

    assert [status for status, _, _ in results] == [201] * THREADS, results
    assert len({body["id"] for _, body, _ in results}) == 1
    assert len({repr(sorted(body.items())) for _, body, _ in results}) == 1  # the very same body
    assert sum(1 for _, _, replayed in results if replayed is None) == 1  # one ran, the others replayed
    assert IdempotencyKey.objects.filter(user=alice, key=key).count() == 1
    assert Transaction.objects.filter(kind="transfer").count() == 1
    source.refresh_from_db()
    destination.refresh_from_db()
    assert source.balance == 876_55
    assert destination.balance == 123_45
    assert_ledger_consistent()


def test_a_refusal_sent_at_once_with_one_key_is_one_stored_answer(alice, bob, open_account, agnes):
    """Issue 10, finding 12, under concurrency: the requests that lose the race for the key wait for
    the first one to commit, then replay its refusal; none runs the transfer itself."""
    source = open_account(alice, balance=100_00)
    destination = open_account(bob, balance=0)
    access = obtain_tokens(alice)["access"]
    key = idempotency_key()
    body = {"source_account": source.pk, "destination_iban": destination.iban, "amount": "500.00"}
    entries, transactions = Entry.objects.count(), Transaction.objects.count()

    def send(i: int, barrier: threading.Barrier):
        client = client_for(None, access=access)
        barrier.wait(timeout=30)
        response = client.post(TRANSFERS, body, format="json", headers={"Idempotency-Key": key})
        return response.status_code, response.json(), response.get("Idempotent-Replayed")

    results = run_threads(THREADS, send)

    assert [status for status, _, _ in results] == [422] * THREADS, results
    assert len({repr(body) for _, body, _ in results}) == 1  # the very same answer
    assert results[0][1]["error"]["code"] == "insufficient_funds"
    assert sum(1 for _, _, replayed in results if replayed is None) == 1  # one ran, the others replayed
    stored = IdempotencyKey.objects.get(user=alice, key=key)
    assert (stored.response_status, stored.response_body) == (422, results[0][1])
    assert (Entry.objects.count(), Transaction.objects.count()) == (entries, transactions)
    source.refresh_from_db()
    assert (source.balance, source.held) == (100_00, 0)
    # Funded since, the same key still answers the refusal.
    assert client_for(agnes).post(f"{API}deposits/", {"account": source.pk, "amount": "1000.00"}, format="json",
                                      headers={"Idempotency-Key": idempotency_key()}).status_code == 201
    retry = client_for(None, access=access).post(TRANSFERS, body, format="json", headers={"Idempotency-Key": key})
    assert (retry.status_code, retry.json(), retry["Idempotent-Replayed"]) == (422, results[0][1], "true")
    assert_ledger_consistent()


def test_two_staff_approving_at_once_post_once(alice, bob, agnes, sam, open_account):
    source = open_account(alice, balance=20_000_00)
    destination = open_account(bob, balance=0)
    as_alice = client_for(alice)
    pending = as_alice.post(
        TRANSFERS, {"source_account": source.pk, "destination_iban": destination.iban, "amount": "10000.00"},
        format="json", headers={"Idempotency-Key": idempotency_key()},
    ).json()
    assert pending["status"] == "pending"
    deciders = [obtain_tokens(agnes)["access"], obtain_tokens(sam)["access"]]

    def approve(i: int, barrier: threading.Barrier):
        client = client_for(None, access=deciders[i % 2])
        barrier.wait(timeout=30)
        response = client.post(f"{API}transactions/{pending['id']}/approve/", {}, format="json")
        return response.status_code, response.json()

    results = run_threads(4, approve)
    statuses = sorted(status for status, _ in results)
    assert statuses == [200, 409, 409, 409], results
    assert all(body["error"]["code"] == "not_pending" for status, body in results if status == 409)
    source.refresh_from_db()
    destination.refresh_from_db()
    assert (source.balance, source.held, destination.balance) == (10_000_00, 0, 10_000_00)
    assert Entry.objects.filter(transaction_id=pending["id"]).count() == 2
    assert_ledger_consistent()


def test_random_concurrent_transfers_conserve_money_and_never_fail(agnes, open_account):
    customers = [make_user(f"racer{n}") for n in range(5)]
    accounts = [open_account(customer, balance=1_000_00) for customer in customers]
    clearing = internal_account(AccountKind.CLEARING, "EUR")
    tokens = {customer.pk: obtain_tokens(customer)["access"] for customer in customers}
    staff_token = obtain_tokens(agnes)["access"]
    total_before = sum(a.balance for a in accounts) + clearing.balance
    documented = {code.value: code.status for code in ErrorCode if 400 <= code.status < 500}
    per_thread = 40

    def race(i: int, barrier: threading.Barrier):
        rng = random.Random(1000 + i)
        staff = i == 0  # one thread is an agent sending from anyone's account
        clients = {pk: client_for(None, access=token) for pk, token in tokens.items()}
        agent = client_for(None, access=staff_token)
        outcomes = []
        barrier.wait(timeout=30)
        for _ in range(per_thread):
            source = accounts[i % len(accounts)] if not staff else rng.choice(accounts)
            if rng.random() < 0.1:
                destination = EXTERNAL_IBAN
            else:
                destination = rng.choice([a for a in accounts if a.pk != source.pk]).iban
            amount = f"{Decimal(rng.randint(1, 40_000)) / 100:.2f}"
            client: APIClient = agent if staff else clients[source.customer_id]
            response = client.post(
                TRANSFERS, {"source_account": source.pk, "destination_iban": destination, "amount": amount},
                format="json", headers={"Idempotency-Key": idempotency_key()},
            )
            outcomes.append((response.status_code, response.json()))
        return outcomes

    results = run_threads(8, race)
    outcomes = [outcome for thread in results for outcome in thread]
    assert len(outcomes) == 8 * 40
    for status, body in outcomes:
        assert status < 500, body
        if status != 201:
            code = body["error"]["code"]
            assert documented.get(code) == status, body
            assert code == "insufficient_funds", body  # the only refusal these requests can meet
    counts = Counter(status for status, _ in outcomes)
    assert counts[201] > 0

    posted = [body for status, body in outcomes if status == 201]
    assert all(body["status"] == "posted" for body in posted)
    assert Transaction.objects.filter(kind__in=["transfer", "external_transfer"]).count() == len(posted)
    assert Transaction.objects.filter(kind__in=["transfer", "external_transfer"],
                                      status=TransactionStatus.POSTED).count() == len(posted)
    # Every request left its key: a success's, or the refusal it answered (replayed on a retry).
    refused = len(outcomes) - len(posted)
    assert IdempotencyKey.objects.filter(response_status=201).count() == len(posted)
    assert IdempotencyKey.objects.filter(response_status=422).count() == refused
    assert IdempotencyKey.objects.count() == len(outcomes)

    for account in accounts:
        account.refresh_from_db()
        assert account.balance >= 0 and account.held == 0
    clearing.refresh_from_db()
    assert sum(a.balance for a in accounts) + clearing.balance == total_before
    external = sum(Decimal(body["amount"]) for body in posted if body["kind"] == "external_transfer")
    assert clearing.balance == int(external * 100)
    assert Account.objects.aggregate(total=Sum("balance"))["total"] == 0
    assert_ledger_consistent()
