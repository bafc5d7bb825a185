"""GET /api/v1/sync/: a customer's accounts and the entries their device does not have yet."""

from __future__ import annotations

import base64

import pytest
from rest_framework.test import APIClient

from banking.models import Entry
from banking.services import transfer_create
from core.testing.api import bearer_client as client_for
from portal import selectors
from portal.api.sync import decode_cursor, encode_cursor

SYNC = "/api/v1/sync/"


@pytest.fixture(autouse=True)
def settled_at_once(settings):
    # Entries made a moment ago count as settled, unless a test says otherwise.
    settings.FLUX_SYNC_SETTLE_SECONDS = 0



def pay(source, destination, minor: int, reference: str = "") -> None:
    transfer_create(
        initiator=source.customer, source_account_id=source.pk, destination_iban=destination.iban,
        amount=minor, reference=reference,
    )


def test_first_sync_gives_own_accounts_and_entries_only(alice, alice_account, bob_account, open_account):
    savings = open_account(alice, balance=0)
    pay(alice_account, bob_account, 12_50, "Lunch")
    pay(bob_account, bob_account.__class__.objects.get(pk=savings.pk), 1_00, "Gift")

    answer = client_for(alice).get(SYNC)

    assert answer.status_code == 200
    body = answer.json()
    assert answer["Cache-Control"] == "no-store"
    assert [account["id"] for account in body["accounts"]] == [alice_account.pk, savings.pk]
    assert body["accounts"][0]["balance"] == "987.50"
    assert set(body["accounts"][0]) == {
        "id", "iban", "kind", "currency", "balance", "available", "overdraft_limit", "status", "customer", "opened_at",
    }
    own = list(Entry.objects.filter(account__customer=alice).order_by("id").values_list("id", flat=True))
    assert [entry["id"] for entry in body["entries"]] == own
    lunch = next(entry for entry in body["entries"] if entry["reference"] == "Lunch")
    assert lunch == {
        "id": lunch["id"], "transaction": lunch["transaction"], "amount": "-12.50", "balance_after": "987.50",
        "kind": "transfer", "counterparty": bob_account.iban, "reference": "Lunch",
        "created_at": lunch["created_at"], "account": alice_account.pk,
    }
    assert decode_cursor(body["cursor"]) == own[-1]
    assert body["has_more"] is False


def test_the_cursor_gives_only_new_entries(alice, alice_account, bob_account):
    client = client_for(alice)
    first = client.get(SYNC).json()

    unchanged = client.get(SYNC, {"cursor": first["cursor"]}).json()
    assert unchanged["entries"] == []
    assert unchanged["cursor"] == first["cursor"]

    pay(bob_account, alice_account, 3_00, "Coffee back")
    pay(alice_account, bob_account, 1_00)
    later = client.get(SYNC, {"cursor": first["cursor"]}).json()

    new = list(Entry.objects.filter(account=alice_account).order_by("id"))[-2:]
    assert [entry["id"] for entry in later["entries"]] == [entry.pk for entry in new]
    assert [entry["amount"] for entry in later["entries"]] == ["3.00", "-1.00"]
    assert later["accounts"][0]["balance"] == "1002.00"
    assert decode_cursor(later["cursor"]) == new[-1].pk


def test_a_first_sync_keeps_the_last_100_entries_per_account(alice, alice_account, bob_account, monkeypatch):
    monkeypatch.setattr(selectors, "RECENT_PER_ACCOUNT", 3)
    for cents in range(1, 6):
        pay(alice_account, bob_account, cents)

    body = client_for(alice).get(SYNC).json()

    newest = list(Entry.objects.filter(account=alice_account).order_by("-id").values_list("id", flat=True)[:3])
    assert [entry["id"] for entry in body["entries"]] == sorted(newest)


def test_a_long_gap_comes_in_pages(alice, alice_account, bob_account, monkeypatch):
    client = client_for(alice)
    cursor = client.get(SYNC).json()["cursor"]
    monkeypatch.setattr(selectors, "PAGE_SIZE", 2)
    for cents in range(1, 4):
        pay(alice_account, bob_account, cents)

    page = client.get(SYNC, {"cursor": cursor}).json()
    assert [entry["amount"] for entry in page["entries"]] == ["-0.01", "-0.02"]
    assert page["has_more"] is True
    rest = client.get(SYNC, {"cursor": page["cursor"]}).json()
    assert [entry["amount"] for entry in rest["entries"]] == ["-0.03"]
    assert rest["has_more"] is False


def test_recent_entries_are_sent_again_until_settled(alice, alice_account, bob_account, settings):
    """An entry whose id was handed out earlier may commit later: the cursor waits before passing
    the young ones, so none is skipped (the device stores entries by id)."""
    client = client_for(alice)
    cursor = client.get(SYNC).json()["cursor"]
    pay(alice_account, bob_account, 5_00)
    settings.FLUX_SYNC_SETTLE_SECONDS = 60

    young = client.get(SYNC, {"cursor": cursor}).json()
    assert [entry["amount"] for entry in young["entries"]] == ["-5.00"]
    assert young["cursor"] == cursor

    settings.FLUX_SYNC_SETTLE_SECONDS = 0  # as if a minute had passed
    settled = client.get(SYNC, {"cursor": cursor}).json()
    assert [entry["amount"] for entry in settled["entries"]] == ["-5.00"]
    assert settled["cursor"] != cursor
    assert client.get(SYNC, {"cursor": settled["cursor"]}).json()["entries"] == []


@pytest.mark.parametrize(
    "cursor",
    ["nonsense", "!!!", base64.urlsafe_b64encode(b"e:-1").decode(), base64.urlsafe_b64encode(b"x:12").decode(),
     base64.urlsafe_b64encode(b"e:99999999999999999999").decode(), base64.urlsafe_b64encode(b"e:\xd9\xa1").decode()],
)
def test_a_bad_cursor_is_a_validation_error(alice, alice_account, cursor):
    answer = client_for(alice).get(SYNC, {"cursor": cursor})

    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == "validation_error"
    assert "cursor" in answer.json()["error"]["fields"]


def test_the_cursor_round_trips():
    assert decode_cursor(encode_cursor(0)) == 0
    assert decode_cursor(encode_cursor(123456789)) == 123456789


def test_staff_and_strangers_have_no_sync_feed(agnes, alice_account):
    assert client_for(agnes).get(SYNC).status_code == 403
    anonymous = APIClient().get(SYNC)
    assert anonymous.status_code == 401
    assert anonymous.json()["error"]["code"] == "not_authenticated"


def test_the_sync_feed_is_in_the_openapi_schema(client, db):
    schema = client.get("/api/v1/schema/", HTTP_ACCEPT="application/json").json()
    operation = schema["paths"]["/api/v1/sync/"]["get"]
    assert operation["operationId"] == "sync"
    assert any(parameter["name"] == "cursor" for parameter in operation["parameters"])
    reference = operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    fields = schema["components"]["schemas"][reference.rsplit("/", 1)[1]]["properties"]
    assert {"accounts", "entries", "cursor", "has_more", "synced_at"} <= set(fields)


@pytest.mark.parametrize("payments", [1, 30])
def test_the_sync_feed_costs_the_same_whatever_the_history(alice, alice_account, bob_account, open_account,
                                                           payments, django_assert_max_num_queries):
    open_account(alice, balance=0)
    for cents in range(1, payments + 1):
        pay(alice_account, bob_account, cents)
    client = client_for(alice)

    with django_assert_max_num_queries(6):
        first = client.get(SYNC)
    with django_assert_max_num_queries(6):
        client.get(SYNC, {"cursor": first.json()["cursor"]})


def test_the_transfers_waiting_for_approval_come_whole_each_time(alice, bob, alice_account, open_account,
                                                                 bob_account):
    from banking.services import transaction_cancel

    rich = open_account(alice, balance=30_000_00)
    bob_rich = open_account(bob, balance=30_000_00)
    waiting = transfer_create(initiator=alice, source_account_id=rich.pk, destination_iban=bob_account.iban,
                              amount=12_000_00, reference="Car")
    cancelled = transfer_create(initiator=alice, source_account_id=rich.pk, destination_iban=bob_account.iban,
                                amount=11_000_00)
    transaction_cancel(actor=alice, transaction_id=cancelled.pk)
    # Bob's pending transfer to Alice is not hers to list.
    transfer_create(initiator=bob, source_account_id=bob_rich.pk, destination_iban=alice_account.iban,
                    amount=10_000_00)
    client = client_for(alice)

    first = client.get(SYNC).json()

    assert first["pending"] == [{
        "id": waiting.pk, "kind": "transfer", "status": "pending", "amount": "12000.00", "currency": "EUR",
        "source_account": rich.pk, "source_iban": rich.iban, "destination_iban": bob_account.iban,
        "reference": "Car", "created_at": first["pending"][0]["created_at"],
        "expires_at": first["pending"][0]["expires_at"],
    }]
    transaction_cancel(actor=alice, transaction_id=waiting.pk)
    again = client.get(SYNC, {"cursor": first["cursor"]}).json()
    assert again["pending"] == []
