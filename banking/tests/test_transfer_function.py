"""The plain transfer in one PostgreSQL call (flux_transfer_posted, banking/migrations/0010) against
the Python path it stands in for (core.idempotency.run_once around services.transfer_create): the
same rows, the same answer, and nothing written when it leaves a case to the Python path.

POST transfers/ tries the call first (banking/api/transfers.py), so every API test of a plain
transfer runs it too; the ledger's property test (test_properties.py, rule transfer_at_once) and
the concurrency tests (test_concurrency.py) run it against the invariants."""

from __future__ import annotations

import json
import uuid
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from audit.models import AuditEvent, OutboxMessage
from banking.api.serializers import TransactionSerializer
from banking.api.views import transaction_body
from banking.iban import generate_flux_iban
from banking.ledger import internal_account
from banking.models import Account, AccountKind, Entry, Transaction, TransactionStatus
from banking.services import account_close, account_freeze, transfer_create
from banking.tests.factories import EXTERNAL_IBAN
from banking.tests.support import at_once, transfer
from core.idempotency import run_once
from core.models import IdempotencyKey
from core.request_id import clear_request_id, set_request_id
from core.testing.api import bearer_client

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="flux_transfer_posted is PostgreSQL's"),
]

# Every column of a transaction but its id and its two instants (each path takes its own "now").
COMPARED = [field.attname for field in Transaction._meta.concrete_fields if field.attname not in
            ("id", "created_at", "posted_at")]


def the_python_way(initiator, source: Account, destination_iban: str, amount: int, reference: str = "") -> dict:
    """What POST transfers/ does otherwise: run_once around transfer_create and the API's body."""

    def operation():
        txn = transfer_create(initiator=initiator, source_account_id=source.pk, destination_iban=destination_iban,
                              amount=amount, reference=reference)
        return 201, transaction_body(txn, created=True)

    return run_once(user=initiator, key=str(uuid.uuid4()), fingerprint=uuid.uuid4().hex, operation=operation).body


def written(answer: dict) -> dict:
    """Everything a transfer wrote, read back: its transaction, entries, audit event, outbox row
    and key, with what differs by nature between two transfers (ids, instants) set apart."""
    txn = Transaction.objects.select_related("source", "destination").get(pk=answer["id"])
    entries = list(Entry.objects.filter(transaction=txn).order_by("amount"))
    [event] = AuditEvent.objects.filter(target_type="transaction", target_id=str(txn.pk))
    key = IdempotencyKey.objects.get(response_body__id=txn.pk)
    return {
        "transaction": {name: getattr(txn, name) for name in COMPARED},
        "instants": (txn.created_at, txn.posted_at, [entry.created_at for entry in entries]),
        "entries": [(entry.account_id, entry.amount, entry.counterparty) for entry in entries],
        "balances_after": [entry.balance_after for entry in entries],
        "event": (event.action, event.actor_id, event.actor_username, event.data),
        "outbox": OutboxMessage.objects.filter(event=event).exists(),
        "key": (key.user_id, key.response_status),
        "stored_answer": key.response_body,
        "read_back": json.loads(json.dumps(TransactionSerializer(txn).data)),
        "txn": txn,
    }


@pytest.mark.django_db
@hypothesis_settings(max_examples=40, deadline=None, database=None,
                     suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(
    amount=st.integers(min_value=1, max_value=4_999_99),
    reference=st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=140).map(str.strip),
    request_id=st.sampled_from(["", "req-7f3a", "a'b\"c\\d%s"]),
)
def test_the_call_writes_what_the_python_path_writes(alice, alice_account, bob_account, amount, reference,
                                                     request_id):
    Account.objects.filter(pk=alice_account.pk).update(balance=10_000_00)  # enough for every example
    if request_id:
        set_request_id(request_id)
    try:
        fast = at_once(alice, alice_account, bob_account.iban, amount, reference)
        assert fast is not None, "a plain transfer was left to the Python path"
        slow = the_python_way(alice, alice_account, bob_account.iban, amount, reference)
    finally:
        clear_request_id()
    by_call, by_python = written(fast), written(slow)

    assert by_call["transaction"] == by_python["transaction"]
    assert by_call["transaction"]["status"] == TransactionStatus.POSTED
    assert by_call["entries"] == by_python["entries"] == [
        (alice_account.pk, -amount, bob_account.iban), (bob_account.pk, amount, alice_account.iban)]
    # Each entry's balance after is its account's, the second transfer's one further on.
    assert by_python["balances_after"] == [by_call["balances_after"][0] - amount, by_call["balances_after"][1] + amount]
    created_at, posted_at, entries_at = by_call["instants"]
    assert created_at == posted_at and entries_at == [created_at, created_at]
    assert by_call["event"] == by_python["event"]
    assert by_call["event"][3].get("request_id") == (request_id or None)
    assert by_call["outbox"] and by_python["outbox"]
    assert by_call["key"] == by_python["key"] == (alice.pk, 201)
    # The answer given, the answer kept and what reading the transaction back says: one body.
    assert fast == by_call["stored_answer"] == by_call["read_back"]
    assert slow == by_python["stored_answer"] == by_python["read_back"]
    assert {name: value for name, value in fast.items() if name not in ("id", "created_at", "posted_at")} == {
        name: value for name, value in slow.items() if name not in ("id", "created_at", "posted_at")}
    alice_account.refresh_from_db()
    bob_account.refresh_from_db()
    assert [alice_account.balance, bob_account.balance] == by_python["balances_after"]


@pytest.mark.django_db
def test_the_answer_through_the_api_is_what_reading_it_back_gives(alice, alice_account, bob_account):
    client = bearer_client(alice)
    with CaptureQueriesContext(connection) as captured:
        created = transfer(client, alice_account, bob_account, "12.34", reference="L'été \"chaud\"")
    assert created.status_code == 201, created.content
    assert any("flux_transfer_posted" in query["sql"] for query in captured.captured_queries)
    read_back = client.get(f"/api/v1/transactions/{created.json()['id']}/")
    assert read_back.json() == created.json()


def _snapshot() -> dict:
    return {
        "accounts": list(Account.objects.order_by("pk").values_list("pk", "balance", "held", "status")),
        "transactions": Transaction.objects.count(),
        "entries": Entry.objects.count(),
        "events": AuditEvent.objects.count(),
        "outbox": OutboxMessage.objects.count(),
        "keys": list(IdempotencyKey.objects.order_by("pk").values_list("pk", "key", "response_status")),
    }


@pytest.mark.django_db
@pytest.mark.parametrize(
    "case",
    ["key already used", "another customer's source", "source frozen", "destination frozen", "destination closed",
     "destination internal", "same account", "another currency", "not enough money", "no such account",
     "no such source"],
)
def test_what_the_call_leaves_to_the_python_path_it_leaves_untouched(
    case, alice, bob, agnes, sam, open_account, alice_account, bob_account, clearing
):
    source, destination_iban, amount, key, initiator = alice_account, bob_account.iban, 10_00, None, alice
    if case == "key already used":
        key = str(uuid.uuid4())
        assert at_once(alice, alice_account, bob_account.iban, 1_00, key=key) is not None
    elif case == "another customer's source":
        source = bob_account
    elif case == "source frozen":
        account_freeze(actor=agnes, account_id=alice_account.pk, reason="Compliance check")
    elif case == "destination frozen":
        account_freeze(actor=agnes, account_id=bob_account.pk, reason="Compliance check")
    elif case == "destination closed":
        empty = open_account(bob)
        account_close(actor=agnes, account_id=empty.pk, reason="Customer request")
        destination_iban = empty.iban
    elif case == "destination internal":
        destination_iban = internal_account(AccountKind.CLEARING, "EUR").iban
    elif case == "same account":
        destination_iban = alice_account.iban
    elif case == "another currency":
        destination_iban = open_account(bob, currency="USD").iban
    elif case == "not enough money":
        amount = alice_account.balance + 1
    elif case == "no such account":
        destination_iban = generate_flux_iban()
    elif case == "no such source":
        source = Account(pk=10**9)
    before = _snapshot()
    with CaptureQueriesContext(connection) as captured:
        assert at_once(initiator, source, destination_iban, amount, key=key) is None
    assert [query["sql"][:27] for query in captured.captured_queries] == ["SELECT flux_transfer_posted"]
    assert _snapshot() == before


@pytest.mark.django_db
@pytest.mark.parametrize("case", ["staff", "payee named", "another bank", "to approve", "bad reference", "bad iban"])
def test_what_the_call_never_takes_asks_the_database_nothing(case, alice, agnes, alice_account, bob_account,
                                                            settings):
    initiator, destination_iban, amount, reference, beneficiary_name = alice, bob_account.iban, 10_00, "", ""
    if case == "staff":
        initiator = agnes
    elif case == "payee named":
        beneficiary_name = "Bob Builder"
    elif case == "another bank":
        destination_iban = EXTERNAL_IBAN
    elif case == "to approve":
        amount = 5_000_00
        settings.FLUX_APPROVAL_THRESHOLD = Decimal("5000.00")
    elif case == "bad reference":
        reference = "x" * 141
    elif case == "bad iban":
        destination_iban = "FR00 NOT AN IBAN"
    with CaptureQueriesContext(connection) as captured:
        assert at_once(initiator, alice_account, destination_iban, amount, reference,
                       beneficiary_name=beneficiary_name) is None
    assert captured.captured_queries == []
