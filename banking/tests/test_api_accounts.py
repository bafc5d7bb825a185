"""The banking REST API v1 for accounts: list and detail, entries, opening, the lifecycle (freeze,
unfreeze, close), and the API as a whole (schema and docs, unknown paths, unsupported methods).

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
from banking.ledger import internal_account
from banking.models import Account, AccountKind, AccountStatus, Entry
from banking.tests.factories import EXTERNAL_IBAN, fresh
from banking.tests.support import ACCOUNTS, DEPOSITS, WITHDRAWALS, cash, lifecycle, transfer
from core.testing.api import API, assert_error, page, post
from identity.models import Role, User
from identity.tests.factories import make_user

pytestmark = pytest.mark.django_db

ACCOUNT_FIELDS = {"id", "iban", "kind", "currency", "balance", "available", "overdraft_limit", "status",
                  "customer", "opened_at"}
ENTRY_FIELDS = {
    "id", "transaction", "amount", "balance_after", "kind", "counterparty", "counterparty_name", "reference",
    "created_at",
}


# --- Accounts: list and detail ---------------------------------------------------------------


def test_a_customer_lists_only_their_own_accounts(api_client_for, alice, alice_account, bob_account,
                                                 rich_account):
    results = page(api_client_for(alice).get(ACCOUNTS))
    assert {a["id"] for a in results} == {alice_account.pk, rich_account.pk}
    assert all(set(a) == ACCOUNT_FIELDS and a["customer"] == alice.pk for a in results)
    # ?customer= cannot widen a customer's view.
    assert page(api_client_for(alice).get(ACCOUNTS, {"customer": bob_account.customer_id})) == []


@pytest.mark.parametrize("role", ["agent", "supervisor"])
def test_staff_list_all_accounts_and_filter_by_customer(api_client_for, agnes, sam, alice,
                                                        alice_account, bob, bob_account, role):
    client = api_client_for(agnes if role == "agent" else sam)
    ids = {a["id"] for a in page(client.get(ACCOUNTS))}
    assert {alice_account.pk, bob_account.pk} <= ids
    assert [a["id"] for a in page(client.get(ACCOUNTS, {"customer": bob.pk}))] == [bob_account.pk]
    assert [a["id"] for a in page(client.get(ACCOUNTS, {"customer": alice.pk}))] == [alice_account.pk]


def test_account_list_refuses_a_bad_customer_filter(api_client_for, agnes, alice_account):
    assert_error(api_client_for(agnes).get(ACCOUNTS, {"customer": "abc"}), 400, "validation_error",
                 fields={"customer"})


def test_account_list_needs_authentication(db):
    assert_error(APIClient().get(ACCOUNTS), 401, "not_authenticated")


def test_account_detail_has_exactly_the_documented_fields(api_client_for, alice, open_account):
    account = open_account(alice, balance=12_50, overdraft_limit=100_00)
    response = api_client_for(alice).get(f"{ACCOUNTS}{account.pk}/")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == ACCOUNT_FIELDS
    assert body["id"] == account.pk
    assert body["iban"] == account.iban
    assert body["kind"] == "checking" and body["currency"] == "EUR" and body["status"] == "active"
    assert body["balance"] == "12.50"
    assert body["available"] == "112.50"
    assert body["overdraft_limit"] == "100.00"
    assert body["customer"] == alice.pk
    assert isinstance(body["opened_at"], str)


def test_the_owner_and_staff_see_an_account(api_client_for, alice, agnes, sam, alice_account):
    for user in (alice, agnes, sam):
        response = api_client_for(user).get(f"{ACCOUNTS}{alice_account.pk}/")
        assert response.status_code == 200
        assert response.json()["balance"] == "1000.00"


def test_another_customers_account_is_not_found_never_forbidden(api_client_for, bob, alice_account):
    client = api_client_for(bob)
    assert_error(client.get(f"{ACCOUNTS}{alice_account.pk}/"), 404, "not_found")
    assert_error(client.get(f"{ACCOUNTS}{alice_account.pk}/entries/"), 404, "not_found")


@pytest.mark.parametrize("pk", ["999999999", "abc", "0", "-1", str(10**30)])
def test_unknown_account_is_not_found(api_client_for, agnes, pk):
    assert_error(api_client_for(agnes).get(f"{ACCOUNTS}{pk}/"), 404, "not_found")


def test_a_customer_cannot_see_the_banks_own_accounts(api_client_for, alice, alice_account):
    vault = internal_account(AccountKind.CASH, "EUR")
    assert_error(api_client_for(alice).get(f"{ACCOUNTS}{vault.pk}/"), 404, "not_found")


def test_account_detail_needs_authentication(alice_account):
    assert_error(APIClient().get(f"{ACCOUNTS}{alice_account.pk}/"), 401, "not_authenticated")


# --- Entries ---------------------------------------------------------------------------------


def test_entries_have_the_documented_fields_newest_first(api_client_for, alice, alice_account,
                                                         bob_account):
    response = transfer(api_client_for(alice), alice_account, bob_account, "12.5", reference="Rent")
    assert response.status_code == 201
    results = page(api_client_for(alice).get(f"{ACCOUNTS}{alice_account.pk}/entries/"))
    assert [set(e) for e in results] == [ENTRY_FIELDS] * 2
    newest, opening = results
    assert newest["id"] > opening["id"]
    assert newest["transaction"] == response.json()["id"]
    assert newest["amount"] == "-12.50"
    assert newest["balance_after"] == "987.50"
    assert newest["kind"] == "transfer"
    assert newest["counterparty"] == bob_account.iban
    assert newest["reference"] == "Rent"
    assert opening["amount"] == "1000.00" and opening["kind"] == "deposit" and opening["counterparty"] == "Cash"
    bob_side = page(api_client_for(bob_account.customer).get(f"{ACCOUNTS}{bob_account.pk}/entries/"))[0]
    assert bob_side["amount"] == "12.50" and bob_side["counterparty"] == alice_account.iban


def test_staff_see_any_accounts_entries(api_client_for, agnes, alice_account):
    assert len(page(api_client_for(agnes).get(f"{ACCOUNTS}{alice_account.pk}/entries/"))) == 1


def test_following_next_yields_every_entry_exactly_once(api_client_for, alice, agnes, alice_account,
                                                        bob_account):
    as_alice = api_client_for(alice)
    for n in range(11):
        assert transfer(as_alice, alice_account, bob_account, f"{n + 1}.00").status_code == 201
    expected = list(Entry.objects.filter(account=alice_account).order_by("-id").values_list("id", flat=True))
    assert len(expected) == 12
    seen: list[int] = []
    response = as_alice.get(f"{ACCOUNTS}{alice_account.pk}/entries/", {"page_size": 5})
    pages = 0
    while True:
        results = page(response)
        pages += 1
        seen += [e["id"] for e in results]
        next_url = response.json()["next"]
        if not next_url:
            break
        response = as_alice.get(next_url)
    assert seen == expected
    assert pages == 3
    # And back again.
    previous = response.json()["previous"]
    assert previous
    assert [e["id"] for e in page(as_alice.get(previous))] == expected[5:10]


def test_entry_filters(api_client_for, alice, alice_account, bob_account, carol_account):
    as_alice = api_client_for(alice)
    transfer(as_alice, alice_account, bob_account, "10.00", reference="Groceries")
    transfer(as_alice, alice_account, carol_account, "250.00", reference="Bike")
    url = f"{ACCOUNTS}{alice_account.pk}/entries/"

    def amounts(**params) -> list[str]:
        return [e["amount"] for e in page(as_alice.get(url, params))]

    assert amounts() == ["-250.00", "-10.00", "1000.00"]
    assert amounts(q="groceries") == ["-10.00"]
    assert amounts(q=carol_account.iban[-8:]) == ["-250.00"]
    assert amounts(min="100") == ["-250.00", "1000.00"]
    assert amounts(max="250.00") == ["-250.00", "-10.00"]
    assert amounts(min="10", max="10.00") == ["-10.00"]
    today = timezone.localdate()
    assert amounts(**{"from": today.isoformat()}) == ["-250.00", "-10.00", "1000.00"]
    assert amounts(**{"to": today.isoformat()}) == ["-250.00", "-10.00", "1000.00"]
    assert amounts(**{"from": (today + timedelta(days=1)).isoformat()}) == []
    assert amounts(**{"to": (today - timedelta(days=1)).isoformat()}) == []
    tomorrow = (timezone.now() + timedelta(days=1)).isoformat()
    assert amounts(**{"to": tomorrow}) == ["-250.00", "-10.00", "1000.00"]


@pytest.mark.parametrize(
    ("param", "value"),
    [
        ("from", "yesterday"),
        ("to", "2026-13-45"),
        ("min", "abc"),
        ("min", "-5"),
        ("max", "1e3"),
        ("max", "12.345"),
        ("q", "x" * 101),
    ],
)
def test_entry_filters_refuse_bad_values(api_client_for, alice, alice_account, param, value):
    response = api_client_for(alice).get(f"{ACCOUNTS}{alice_account.pk}/entries/", {param: value})
    assert_error(response, 400, "validation_error", fields={param})


# --- Opening accounts ------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["agent", "supervisor"])
def test_staff_open_an_account(api_client_for, agnes, sam, alice, role):
    actor = agnes if role == "agent" else sam
    response = post(api_client_for(actor), ACCOUNTS, {"customer": alice.pk, "kind": "savings"})
    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == ACCOUNT_FIELDS
    assert body["kind"] == "savings" and body["currency"] == "EUR" and body["balance"] == "0.00"
    assert body["available"] == "0.00" and body["overdraft_limit"] == "0.00" and body["status"] == "active"
    assert body["customer"] == alice.pk
    account = Account.objects.get(pk=body["id"])
    assert account.iban == body["iban"] and account.iban.startswith("NL") and "FLUX" in account.iban
    event = AuditEvent.objects.get(action=actions.ACCOUNT_OPENED, target_id=str(account.pk))
    assert event.actor_id == actor.pk


def test_a_supervisor_opens_an_account_with_currency_and_overdraft(api_client_for, sam, alice):
    response = post(api_client_for(sam), ACCOUNTS,
                    {"customer": alice.pk, "kind": "checking", "currency": "usd", "overdraft_limit": "250.5"})
    assert response.status_code == 201, response.content
    assert response.json()["currency"] == "USD"
    assert response.json()["overdraft_limit"] == "250.50"
    assert response.json()["available"] == "250.50"
    account = Account.objects.get(pk=response.json()["id"])
    assert account.overdraft_limit == 250_50
    event = AuditEvent.objects.get(action=actions.ACCOUNT_OPENED, target_id=str(account.pk))
    assert (event.actor_id, event.data["overdraft_limit"]) == (sam.pk, "250.50")


@pytest.mark.parametrize("overdraft_limit", ["1000000.00", "0.01", "250.5"])
def test_an_agent_cannot_open_an_account_with_an_overdraft(
    api_client_for, agnes, alice, api_unchanged, overdraft_limit
):
    """Issue 10, finding 1: the page hid the field, the API took it. Now the service refuses it:
    403, and no account, no audit event, no change to the customer."""
    client = api_client_for(agnes)
    with api_unchanged():  # signs every user in first: their sign-in events come before the counts
        accounts, events = Account.objects.count(), AuditEvent.objects.count()
        customer_before = User.objects.filter(pk=alice.pk).values().get()
        response = post(client, ACCOUNTS, {"customer": alice.pk, "kind": "checking",
                                           "overdraft_limit": overdraft_limit})
    error = assert_error(response, 403, "permission_denied")
    assert "supervisor" in error["message"]
    assert (Account.objects.count(), AuditEvent.objects.count()) == (accounts, events)
    assert not Account.objects.filter(customer=alice).exists()
    assert User.objects.filter(pk=alice.pk).values().get() == customer_before


def test_an_agent_may_say_no_overdraft(api_client_for, agnes, alice):
    """A zero limit is no overdraft: what every account opens with, so an agent may send it."""
    response = post(api_client_for(agnes), ACCOUNTS,
                    {"customer": alice.pk, "kind": "checking", "overdraft_limit": "0.00"})
    assert response.status_code == 201, response.content
    assert response.json()["overdraft_limit"] == "0.00"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"kind": "cash"}, "kind"),
        ({"kind": "clearing"}, "kind"),
        ({"kind": "gold"}, "kind"),
        ({"kind": None}, "kind"),
        ({"currency": "XXX"}, "currency"),
        ({"currency": "EURO"}, "currency"),
        ({"overdraft_limit": "-5"}, "overdraft_limit"),
        ({"overdraft_limit": 100}, "overdraft_limit"),
        ({"customer": "abc"}, "customer"),
        ({"customer": 999999999}, "customer"),
    ],
)
def test_opening_an_account_validates(api_client_for, agnes, alice, api_unchanged, changes, field):
    body = {"customer": alice.pk, "kind": "checking"} | changes
    client = api_client_for(agnes)
    with api_unchanged():
        assert_error(post(client, ACCOUNTS, body), 400, "validation_error", fields={field})


def test_accounts_are_only_for_customers(api_client_for, agnes, arthur, api_unchanged):
    client = api_client_for(agnes)
    with api_unchanged():
        assert_error(post(client, ACCOUNTS, {"customer": arthur.pk, "kind": "checking"}), 400,
                     "validation_error", fields={"customer"})


def test_customers_cannot_open_accounts(api_client_for, alice, api_unchanged):
    client = api_client_for(alice)
    with api_unchanged():
        assert_error(post(client, ACCOUNTS, {"customer": alice.pk, "kind": "checking"}), 403, "permission_denied")
        assert_error(post(APIClient(), ACCOUNTS, {"customer": alice.pk, "kind": "checking"}), 401,
                     "not_authenticated")


# --- Account lifecycle -----------------------------------------------------------------------


def test_freeze_and_unfreeze(api_client_for, agnes, alice_account):
    client = api_client_for(agnes)
    response = lifecycle(client, alice_account, "freeze")
    assert response.status_code == 200
    assert set(response.json()) == ACCOUNT_FIELDS and response.json()["status"] == "frozen"
    assert fresh(alice_account).status == AccountStatus.FROZEN
    event = AuditEvent.objects.get(action=actions.ACCOUNT_FROZEN)
    assert event.data["reason"] == "Customer request" and event.actor_id == agnes.pk
    assert_error(lifecycle(client, alice_account, "freeze"), 409, "account_frozen")

    response = lifecycle(client, alice_account, "unfreeze")
    assert response.status_code == 200 and response.json()["status"] == "active"
    assert AuditEvent.objects.filter(action=actions.ACCOUNT_UNFROZEN).count() == 1
    assert_error(lifecycle(client, alice_account, "unfreeze"), 409, "account_not_frozen")


@pytest.mark.parametrize("action", ["freeze", "unfreeze", "close"])
@pytest.mark.parametrize("reason", [None, "", "   ", "x" * 501])
def test_lifecycle_needs_a_reason(api_client_for, agnes, alice_account, api_unchanged, action, reason):
    client = api_client_for(agnes)
    with api_unchanged():
        assert_error(lifecycle(client, alice_account, action, reason), 400, "validation_error",
                     fields={"reason"})


@pytest.mark.parametrize("action", ["freeze", "unfreeze", "close"])
def test_lifecycle_is_staff_only(api_client_for, alice, carol_account, api_unchanged, action):
    client = api_client_for(alice)
    with api_unchanged():
        assert_error(lifecycle(client, carol_account, action), 403, "permission_denied")
        assert_error(lifecycle(api_client_for(carol_account.customer), carol_account, action), 403,
                     "permission_denied")
        assert_error(lifecycle(APIClient(), carol_account, action), 401, "not_authenticated")


@pytest.mark.parametrize("action", ["freeze", "unfreeze", "close"])
def test_lifecycle_of_an_unknown_or_internal_account_is_not_found(api_client_for, agnes, alice_account,
                                                                  api_unchanged, action):
    vault = internal_account(AccountKind.CASH, "EUR")
    client = api_client_for(agnes)
    with api_unchanged():
        for pk in (999999999, "abc", vault.pk):
            response = post(client, f"{ACCOUNTS}{pk}/{action}/", {"reason": "Because"})
            assert_error(response, 404, "not_found")


def test_closing_an_account_with_money_is_refused(api_client_for, agnes, alice_account, api_unchanged):
    client = api_client_for(agnes)
    with api_unchanged():
        assert_error(lifecycle(client, alice_account, "close"), 409, "account_not_empty")


def test_closing_an_account_with_a_pending_hold_is_refused(api_client_for, agnes, rich_account, pending_transfer):
    # Spend all but the held amount, so the balance alone would not stop the close.
    client = api_client_for(agnes)
    assert fresh(rich_account).held == 12_000_00
    assert_error(lifecycle(client, rich_account, "close"), 409, "account_not_empty")


def test_closing_an_empty_account(api_client_for, agnes, alice, carol_account, alice_account):
    client = api_client_for(agnes)
    response = lifecycle(client, carol_account, "close")
    assert response.status_code == 200
    assert response.json()["status"] == "closed" and response.json()["balance"] == "0.00"
    assert fresh(carol_account).closed_at is not None
    assert AuditEvent.objects.filter(action=actions.ACCOUNT_CLOSED, target_id=str(carol_account.pk)).exists()
    # Closed is final.
    assert_error(lifecycle(client, carol_account, "close"), 409, "account_closed")
    assert_error(lifecycle(client, carol_account, "freeze"), 409, "account_closed")
    assert_error(lifecycle(client, carol_account, "unfreeze"), 409, "account_closed")


def test_a_closed_account_refuses_money_both_ways(api_client_for, agnes, alice, carol,
                                                  alice_account, carol_account, api_unchanged):
    assert lifecycle(api_client_for(agnes), carol_account, "close").status_code == 200
    with api_unchanged():
        assert_error(transfer(api_client_for(alice), alice_account, carol_account, "5.00"), 409,
                     "account_closed")
        assert_error(transfer(api_client_for(carol), carol_account, alice_account, "5.00"), 409,
                     "account_closed")
        assert_error(cash(api_client_for(agnes), DEPOSITS, carol_account, "5.00"), 409, "account_closed")


def test_a_frozen_account_refuses_transfers_both_ways(api_client_for, agnes, alice, bob,
                                                      alice_account, bob_account, api_unchanged):
    assert lifecycle(api_client_for(agnes), bob_account, "freeze").status_code == 200
    with api_unchanged():
        assert_error(transfer(api_client_for(alice), alice_account, bob_account, "5.00"), 409,
                     "account_frozen")
        assert_error(transfer(api_client_for(bob), bob_account, alice_account, "5.00"), 409,
                     "account_frozen")
        assert_error(transfer(api_client_for(bob), bob_account, EXTERNAL_IBAN, "5.00"), 409,
                     "account_frozen")
        assert_error(cash(api_client_for(agnes), DEPOSITS, bob_account, "5.00"), 409, "account_frozen")
        assert_error(cash(api_client_for(agnes), WITHDRAWALS, bob_account, "5.00"), 409, "account_frozen")
    assert lifecycle(api_client_for(agnes), bob_account, "unfreeze").status_code == 200
    assert transfer(api_client_for(alice), alice_account, bob_account, "5.00").status_code == 201


# --- Schema, docs, unknown paths, methods ----------------------------------------------------


def test_schema_and_docs_need_no_authentication(db):
    schema = APIClient().get(f"{API}schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert schema.status_code == 200, schema.content[:500]
    document = schema.json()
    assert document["openapi"].startswith("3.")
    assert any(path.endswith("/transfers/") for path in document["paths"])
    docs = APIClient().get(f"{API}docs/")
    assert docs.status_code == 200
    assert b"swagger" in docs.content.lower()
    assert b"cdn." not in docs.content.lower()


@pytest.mark.parametrize("path", ["/api/nope/", "/api/v1/nope/", "/api/v2/accounts/", "/api/v1/accounts/1/nope/",
                                  "/api/v1/transactions/"])
def test_unknown_api_paths_are_json_404(db, path):
    response = APIClient().get(path)
    assert_error(response, 404, "not_found")


def test_unknown_api_path_is_404_for_a_signed_in_user(api_client_for, alice):
    assert_error(api_client_for(alice).get("/api/v1/nothing-here/"), 404, "not_found")


@pytest.mark.parametrize(
    ("method", "path"),
    [("delete", "accounts/{pk}/"), ("put", "accounts/{pk}/"), ("put", "transfers/"), ("get", "deposits/"),
     ("patch", "accounts/{pk}/")],
)
def test_unsupported_methods_are_405(api_client_for, agnes, alice_account, api_unchanged, method, path):
    client = api_client_for(agnes)
    with api_unchanged():
        response = getattr(client, method)(f"{API}{path.format(pk=alice_account.pk)}", {}, format="json")
        assert_error(response, 405, "method_not_allowed")


def test_roles_are_coherent_across_the_cast(db):
    # Guard for the fixtures themselves: each role is what the tests assume.
    assert make_user("x_customer").role == Role.CUSTOMER
    assert make_user("x_agent", Role.AGENT).is_bank_staff
    assert make_user("x_supervisor", Role.SUPERVISOR).is_supervisor
