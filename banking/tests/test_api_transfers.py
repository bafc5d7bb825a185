"""The banking REST API v1 for transfers: posting, amounts, IBANs and refusals, approval
thresholds and holds, and idempotency keys.

Every refused request is checked against the documented error shape and, when it could have moved
money, inside `api_unchanged()`: balances, holds, entries, transactions, audit events and
idempotency keys are exactly as before."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from audit import actions
from audit.models import AuditEvent
from banking.iban import generate_flux_iban
from banking.ledger import internal_account
from banking.models import Account, AccountKind, Entry, Transaction
from banking.tests.factories import EXTERNAL_IBAN
from banking.tests.ledger import assert_ledger_consistent, ledger_snapshot
from banking.tests.support import ACCOUNTS, DEPOSITS, TRANSFERS, WITHDRAWALS, balance_of, cash, lifecycle, transfer
from core.models import IdempotencyKey
from core.testing.api import assert_error, idempotency_key, page, post

pytestmark = pytest.mark.django_db


# --- Transfers -------------------------------------------------------------------------------


def test_a_transfer_posts_and_moves_the_money(api_client_for, alice, alice_account, bob_account):
    response = transfer(api_client_for(alice), alice_account, bob_account, "12.50", reference="Lunch")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["kind"] == "transfer" and body["status"] == "posted"
    assert body["amount"] == "12.50" and body["currency"] == "EUR"
    assert body["source_account"] == alice_account.pk
    assert body["destination_account"] == bob_account.pk
    assert body["source_iban"] == alice_account.iban and body["destination_iban"] == bob_account.iban
    assert body["reference"] == "Lunch" and body["initiated_by"] == alice.pk
    assert body["reversed_by"] is None and body["reverses"] is None
    assert balance_of(alice_account) == 987_50
    assert balance_of(bob_account) == 512_50
    assert AuditEvent.objects.filter(action=actions.TRANSACTION_POSTED, target_id=str(body["id"])).count() == 1
    assert_ledger_consistent()


@pytest.mark.parametrize("amount", ["12.5", "12.50", "12", "0.01", "1000", "1000.00"])
def test_transfer_amount_formats(api_client_for, alice, alice_account, bob_account, amount):
    from decimal import Decimal

    response = transfer(api_client_for(alice), alice_account, bob_account, amount)
    assert response.status_code == 201, response.content
    assert response.json()["amount"] == f"{Decimal(amount):.2f}"
    assert balance_of(alice_account) == 1_000_00 - int(Decimal(amount) * 100)


def test_a_formatted_destination_iban_is_accepted(api_client_for, alice, alice_account, bob_account):
    iban = bob_account.iban
    spaced = " ".join(iban[i:i + 4] for i in range(0, len(iban), 4)).lower()
    response = transfer(api_client_for(alice), alice_account, spaced, "1.00")
    assert response.status_code == 201, response.content
    assert response.json()["destination_account"] == bob_account.pk


def test_a_transfer_at_the_threshold_is_pending_and_held(api_client_for, alice, sam, rich_account,
                                                         bob_account):
    response = transfer(api_client_for(alice), rich_account, bob_account, "10000.00")
    assert response.status_code == 201, response.content
    assert response.json()["status"] == "pending" and response.json()["posted_at"] is None
    assert response.json()["expires_at"]
    detail = api_client_for(alice).get(f"{ACCOUNTS}{rich_account.pk}/").json()
    assert detail["balance"] == "30000.00" and detail["available"] == "20000.00"
    assert balance_of(bob_account) == 500_00
    assert not Entry.objects.filter(transaction_id=response.json()["id"]).exists()
    assert_ledger_consistent()


def test_a_transfer_just_below_the_threshold_posts(api_client_for, alice, rich_account, bob_account):
    response = transfer(api_client_for(alice), rich_account, bob_account, "9999.99")
    assert response.status_code == 201 and response.json()["status"] == "posted"


def test_a_transfer_to_another_bank(api_client_for, alice, alice_account):
    response = transfer(api_client_for(alice), alice_account, "de89 3704 0044 0532 0130 00", "100.00")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["kind"] == "external_transfer" and body["status"] == "posted"
    assert body["destination_iban"] == EXTERNAL_IBAN
    clearing = internal_account(AccountKind.CLEARING, "EUR")
    assert body["destination_account"] == clearing.pk
    assert balance_of(alice_account) == 900_00
    assert balance_of(clearing) == 100_00
    entry = page(api_client_for(alice).get(f"{ACCOUNTS}{alice_account.pk}/entries/"))[0]
    assert entry["counterparty"] == EXTERNAL_IBAN and entry["amount"] == "-100.00"
    assert_ledger_consistent()


def test_staff_may_transfer_from_a_customer_account(api_client_for, agnes, alice_account, bob_account):
    response = transfer(api_client_for(agnes), alice_account, bob_account, "1.00")
    assert response.status_code == 201
    assert response.json()["initiated_by"] == agnes.pk


@pytest.mark.parametrize(
    "amount",
    ["0", "0.00", "-5", "-5.00", "1e3", "12.345", "12345678901234", " 12", "12 ", "12,50", "", "abc", ".5", "5.",
     "+5", "0x10", "1_000", "12.5.0", "\t12"],
)
def test_transfer_refuses_bad_amount_strings(api_client_for, alice, alice_account, bob_account,
                                             api_unchanged, amount):
    client = api_client_for(alice)
    with api_unchanged():
        assert_error(transfer(client, alice_account, bob_account, amount), 400, "validation_error",
                     fields={"amount"})


@pytest.mark.parametrize("amount", ["12\n", "12.50\n", "\u0661\u0662", "\uff11\uff12"])
def test_transfer_refuses_non_ascii_digits_and_a_trailing_newline(api_client_for, alice, alice_account,
                                                                  bob_account, api_unchanged, amount):
    client = api_client_for(alice)
    with api_unchanged():
        assert_error(transfer(client, alice_account, bob_account, amount), 400, "validation_error",
                     fields={"amount"})


@pytest.mark.parametrize("amount", [12.5, 12, 0, -5, None, True, ["12.50"], {"value": "12.50"}])
def test_transfer_refuses_amounts_that_are_not_strings(api_client_for, alice, alice_account,
                                                       bob_account, api_unchanged, amount):
    client = api_client_for(alice)
    with api_unchanged():
        assert_error(transfer(client, alice_account, bob_account, amount), 400, "validation_error",
                     fields={"amount"})


def test_thirteen_integer_digits_are_allowed_but_not_fourteen(api_client_for, alice, alice_account,
                                                             bob_account, api_unchanged):
    client = api_client_for(alice)
    with api_unchanged():
        # Thirteen digits is a well-formed amount: refused only because Alice has not got it.
        assert_error(transfer(client, alice_account, bob_account, "1234567890123.99"), 422,
                     "insufficient_funds")
        assert_error(transfer(client, alice_account, bob_account, "12345678901234"), 400,
                     "validation_error", fields={"amount"})


@pytest.mark.parametrize(
    ("changes", "fields"),
    [
        ({"source_account": None}, {"source_account"}),
        ({"source_account": "abc"}, {"source_account"}),
        ({"source_account": 0}, {"source_account"}),
        ({"reference": "x" * 141}, {"reference"}),
        ({"destination_iban": None}, {"destination_iban"}),
    ],
)
def test_transfer_refuses_malformed_fields(api_client_for, alice, alice_account, bob_account,
                                           api_unchanged, changes, fields):
    body = {"source_account": alice_account.pk, "destination_iban": bob_account.iban, "amount": "1.00"}
    client = api_client_for(alice)
    with api_unchanged():
        assert_error(post(client, TRANSFERS, body | changes, key=idempotency_key()), 400, "validation_error",
                     fields=fields)


def test_transfer_with_missing_fields(api_client_for, alice, api_unchanged):
    client = api_client_for(alice)
    with api_unchanged():
        assert_error(post(client, TRANSFERS, {}, key=idempotency_key()), 400, "validation_error",
                     fields={"source_account", "destination_iban", "amount"})


@pytest.mark.parametrize(
    "iban",
    ["", "   ", "NL00FLUX0000000000", "DE89370400440532013001", "hello", "XX89370400440532013000",
     "DE8937040044053201300"],
)
def test_transfer_to_an_invalid_iban_is_422(api_client_for, alice, alice_account, api_unchanged, iban):
    client = api_client_for(alice)
    with api_unchanged():
        assert_error(transfer(client, alice_account, iban, "1.00"), 422, "invalid_iban")


def test_transfer_to_an_unknown_flux_iban_is_422(api_client_for, alice, alice_account, api_unchanged):
    iban = generate_flux_iban()
    assert not Account.objects.filter(iban=iban).exists()
    client = api_client_for(alice)
    with api_unchanged():
        assert_error(transfer(client, alice_account, iban, "1.00"), 422, "unknown_account")


@pytest.mark.parametrize("kind", [AccountKind.CASH, AccountKind.CLEARING])
def test_transfer_to_the_banks_own_account_is_422(api_client_for, alice, alice_account, api_unchanged, kind):
    internal = internal_account(kind, "EUR")
    client = api_client_for(alice)
    with api_unchanged():
        assert_error(transfer(client, alice_account, internal, "1.00"), 422, "unknown_account")


def test_staff_cannot_transfer_from_the_banks_own_account(api_client_for, agnes, bob_account, api_unchanged):
    vault = internal_account(AccountKind.CASH, "EUR")
    client = api_client_for(agnes)
    with api_unchanged():
        assert_error(transfer(client, vault, bob_account, "1.00"), 422, "unknown_account")


def test_transfer_to_the_same_account_is_422(api_client_for, alice, alice_account, api_unchanged):
    client = api_client_for(alice)
    with api_unchanged():
        assert_error(transfer(client, alice_account, alice_account, "1.00"), 422, "same_account")


def test_transfer_between_currencies_is_422(api_client_for, alice, bob, alice_account, open_account,
                                            api_unchanged):
    dollars = open_account(bob, currency="USD", balance=100_00)
    client = api_client_for(alice)
    with api_unchanged():
        assert_error(transfer(client, alice_account, dollars, "1.00"), 422, "currency_mismatch")


def test_transfer_beyond_the_available_funds_is_422(api_client_for, alice, alice_account, bob_account,
                                                    api_unchanged):
    client = api_client_for(alice)
    with api_unchanged():
        assert_error(transfer(client, alice_account, bob_account, "1000.01"), 422, "insufficient_funds")
        assert_error(transfer(client, alice_account, EXTERNAL_IBAN, "1000.01"), 422, "insufficient_funds")
    assert transfer(client, alice_account, bob_account, "1000.00").status_code == 201
    assert balance_of(alice_account) == 0


def test_a_pending_transfer_beyond_the_available_funds_is_422(api_client_for, alice, alice_account,
                                                              bob_account, api_unchanged):
    client = api_client_for(alice)
    with api_unchanged():
        assert_error(transfer(client, alice_account, bob_account, "10000.00"), 422, "insufficient_funds")


def test_a_hold_cannot_be_spent_twice(api_client_for, alice, rich_account, pending_transfer, bob_account,
                                      api_unchanged):
    client = api_client_for(alice)
    with api_unchanged():  # 30000 - 12000 held = 18000 available
        assert_error(transfer(client, rich_account, bob_account, "18000.01"), 422, "insufficient_funds")


def test_the_overdraft_limit_is_spendable(api_client_for, alice, open_account, bob_account):
    account = open_account(alice, balance=10_00, overdraft_limit=50_00)
    client = api_client_for(alice)
    assert_error(transfer(client, account, bob_account, "60.01"), 422, "insufficient_funds")
    assert transfer(client, account, bob_account, "60.00").status_code == 201
    detail = client.get(f"{ACCOUNTS}{account.pk}/").json()
    assert detail["balance"] == "-50.00" and detail["available"] == "0.00"


@pytest.mark.parametrize("source", ["other", "missing"])
def test_sending_from_another_customers_or_a_missing_account_is_404(api_client_for, bob, alice_account,
                                                                    bob_account, api_unchanged, source):
    client = api_client_for(bob)
    account = alice_account
    if source == "missing":
        account = Account(pk=999999999, iban=alice_account.iban)
    with api_unchanged():
        assert_error(transfer(client, account, bob_account, "1.00"), 404, "not_found")


def test_transfers_need_authentication(alice_account, bob_account, api_unchanged):
    with api_unchanged():
        assert_error(transfer(APIClient(), alice_account, bob_account, "1.00"), 401, "not_authenticated")


# --- Idempotency -----------------------------------------------------------------------------


@pytest.mark.parametrize("key", [None, "", "   "])
def test_a_transfer_needs_an_idempotency_key(api_client_for, alice, alice_account, bob_account,
                                             api_unchanged, key):
    client = api_client_for(alice)
    body = {"source_account": alice_account.pk, "destination_iban": bob_account.iban, "amount": "1.00"}
    headers = {} if key is None else {"Idempotency-Key": key}
    with api_unchanged():
        response = client.post(TRANSFERS, body, format="json", headers=headers)
        assert_error(response, 400, "idempotency_key_missing")


@pytest.mark.parametrize("url", [DEPOSITS, WITHDRAWALS])
def test_cash_needs_an_idempotency_key(api_client_for, agnes, alice_account, api_unchanged, url):
    client = api_client_for(agnes)
    with api_unchanged():
        response = client.post(url, {"account": alice_account.pk, "amount": "1.00"}, format="json")
        assert_error(response, 400, "idempotency_key_missing")


def test_an_overlong_idempotency_key_is_refused(api_client_for, alice, alice_account, bob_account,
                                                api_unchanged):
    client = api_client_for(alice)
    with api_unchanged():
        assert_error(transfer(client, alice_account, bob_account, "1.00", key="k" * 256), 400,
                     "validation_error", fields={"Idempotency-Key"})


def test_a_retry_with_the_same_key_and_body_replays_and_moves_money_once(api_client_for, alice,
                                                                          alice_account, bob_account):
    client = api_client_for(alice)
    key = idempotency_key()
    first = transfer(client, alice_account, bob_account, "25.00", key=key)
    assert first.status_code == 201
    assert "Idempotent-Replayed" not in first
    snapshot_entries = Entry.objects.count()
    for _ in range(3):
        again = transfer(client, alice_account, bob_account, "25.00", key=key)
        assert again.status_code == 201
        assert again.json() == first.json()
        assert again["Idempotent-Replayed"] == "true"
    assert Entry.objects.count() == snapshot_entries
    assert balance_of(alice_account) == 975_00
    assert balance_of(bob_account) == 525_00
    assert Transaction.objects.filter(kind="transfer").count() == 1
    assert IdempotencyKey.objects.filter(key=key).count() == 1
    assert AuditEvent.objects.filter(action=actions.TRANSACTION_POSTED, target_id=str(first.json()["id"])).count() == 1


def test_the_replay_ignores_the_order_of_the_json_keys(api_client_for, alice, alice_account,
                                                       bob_account):
    client = api_client_for(alice)
    key = idempotency_key()
    first = post(client, TRANSFERS, {"source_account": alice_account.pk,
                                     "destination_iban": bob_account.iban, "amount": "2.00"}, key=key)
    second = post(client, TRANSFERS, {"amount": "2.00", "destination_iban": bob_account.iban,
                                      "source_account": alice_account.pk}, key=key)
    assert first.status_code == second.status_code == 201
    assert second.json() == first.json()
    assert balance_of(bob_account) == 502_00


@pytest.mark.parametrize(
    "changes",
    [{"amount": "25.01"}, {"reference": "other"}, {"destination_iban": EXTERNAL_IBAN}],
)
def test_the_same_key_with_another_body_is_422(api_client_for, alice, alice_account, bob_account,
                                               api_unchanged, changes):
    client = api_client_for(alice)
    key = idempotency_key()
    assert transfer(client, alice_account, bob_account, "25.00", key=key).status_code == 201
    body = {"source_account": alice_account.pk, "destination_iban": bob_account.iban, "amount": "25.00"}
    with api_unchanged():
        assert_error(post(client, TRANSFERS, body | changes, key=key), 422, "idempotency_key_reused")


def test_the_same_key_on_another_endpoint_is_422(api_client_for, agnes, alice_account, api_unchanged):
    client = api_client_for(agnes)
    key = idempotency_key()
    body = {"account": alice_account.pk, "amount": "5.00"}
    assert post(client, DEPOSITS, body, key=key).status_code == 201
    with api_unchanged():
        assert_error(post(client, WITHDRAWALS, body, key=key), 422, "idempotency_key_reused")


def test_the_same_key_used_by_two_users_is_independent(api_client_for, alice, bob, alice_account,
                                                       bob_account):
    key = "shared-key-123"
    by_alice = transfer(api_client_for(alice), alice_account, bob_account, "10.00", key=key)
    by_bob = transfer(api_client_for(bob), bob_account, alice_account, "3.00", key=key)
    assert by_alice.status_code == by_bob.status_code == 201
    assert "Idempotent-Replayed" not in by_bob
    assert by_alice.json()["id"] != by_bob.json()["id"]
    assert balance_of(alice_account) == 993_00
    assert balance_of(bob_account) == 507_00
    assert IdempotencyKey.objects.filter(key=key).count() == 2


def test_a_refused_transfer_is_replayed_even_after_the_money_arrives(api_client_for, agnes, alice,
                                                                      alice_account, bob_account):
    """Issue 10, finding 12: told "insufficient funds", a client might pay another way; a retry
    with the same key after the money arrived used to pay as well. The first answer is the answer."""
    client, teller = api_client_for(alice), api_client_for(agnes)
    key = idempotency_key()
    first = transfer(client, alice_account, bob_account, "1500.00", key=key)
    assert_error(first, 422, "insufficient_funds")
    assert "Idempotent-Replayed" not in first
    assert cash(teller, DEPOSITS, alice_account, "1000.00").status_code == 201  # the money arrives
    before = ledger_snapshot()

    for _ in range(2):
        retry = transfer(client, alice_account, bob_account, "1500.00", key=key)
        assert retry.status_code == 422 and retry.json() == first.json()
        assert retry["Idempotent-Replayed"] == "true"
    assert ledger_snapshot() == before  # balances, entries, transactions, audit events: nothing moved
    assert (balance_of(alice_account), balance_of(bob_account)) == (2_000_00, 500_00)
    assert IdempotencyKey.objects.get(key=key).response_status == 422

    # The same key for another transfer is still a reuse; a new key is a new transfer, and it posts.
    assert_error(transfer(client, alice_account, bob_account, "1400.00", key=key), 422,
                 "idempotency_key_reused")
    fresh_try = transfer(client, alice_account, bob_account, "1500.00", key=idempotency_key())
    assert fresh_try.status_code == 201 and "Idempotent-Replayed" not in fresh_try
    assert (balance_of(alice_account), balance_of(bob_account)) == (500_00, 2_000_00)


def test_a_transfer_refused_by_a_frozen_account_is_replayed_after_the_unfreeze(
    api_client_for, agnes, alice, alice_account, bob_account
):
    client, teller = api_client_for(alice), api_client_for(agnes)
    assert lifecycle(teller, bob_account, "freeze").status_code == 200
    key = idempotency_key()
    first = transfer(client, alice_account, bob_account, "10.00", key=key)
    assert_error(first, 409, "account_frozen")
    assert lifecycle(teller, bob_account, "unfreeze").status_code == 200
    before = ledger_snapshot()

    retry = transfer(client, alice_account, bob_account, "10.00", key=key)
    assert retry.status_code == 409 and retry.json() == first.json()
    assert retry["Idempotent-Replayed"] == "true"
    assert ledger_snapshot() == before
    assert transfer(client, alice_account, bob_account, "10.00", key=idempotency_key()).status_code == 201
    assert balance_of(bob_account) == 510_00


def test_a_refused_withdrawal_is_replayed_too(api_client_for, agnes, alice_account):
    teller = api_client_for(agnes)
    key = idempotency_key()
    body = {"account": alice_account.pk, "amount": "1500.00"}
    first = post(teller, WITHDRAWALS, body, key=key)
    assert_error(first, 422, "insufficient_funds")
    assert cash(teller, DEPOSITS, alice_account, "1000.00").status_code == 201
    before = ledger_snapshot()
    retry = post(teller, WITHDRAWALS, body, key=key)
    assert (retry.status_code, retry.json(), retry["Idempotent-Replayed"]) == (422, first.json(), "true")
    assert ledger_snapshot() == before


def test_a_validation_error_is_not_kept_and_the_corrected_body_runs_under_the_same_key(
    api_client_for, alice, alice_account, bob_account
):
    client = api_client_for(alice)
    key = idempotency_key()
    assert_error(transfer(client, alice_account, bob_account, "12.345", key=key), 400, "validation_error",
                 fields={"amount"})
    assert not IdempotencyKey.objects.filter(key=key).exists()
    corrected = transfer(client, alice_account, bob_account, "12.34", key=key)
    assert corrected.status_code == 201 and "Idempotent-Replayed" not in corrected
    assert balance_of(alice_account) == 987_66


def test_paying_another_customers_frozen_or_closed_account_tells_nothing_of_its_status(
    api_client_for, agnes, sam, alice, alice_account, bob_account, open_account, bob
):
    """The code stays the contract's (account_frozen, account_closed); the message says only that
    the payment cannot be made to this account, in English and in French."""
    client, teller = api_client_for(alice), api_client_for(agnes)
    assert lifecycle(teller, bob_account, "freeze", reason="Suspected fraud").status_code == 200
    empty = open_account(bob)
    assert lifecycle(teller, empty, "close").status_code == 200
    before = ledger_snapshot()

    refused = transfer(client, alice_account, bob_account, "10.00")
    assert_error(refused, 409, "account_frozen")
    assert refused.json()["error"]["message"] == "The payment cannot be made to this account."
    french = client.post(TRANSFERS, {"source_account": alice_account.pk, "destination_iban": bob_account.iban,
                                     "amount": "10.00"}, format="json",
                         headers={"Idempotency-Key": idempotency_key(), "Accept-Language": "fr"})
    assert french.json()["error"]["message"] == "Le paiement ne peut pas être fait vers ce compte."

    closed = transfer(client, alice_account, empty, "10.00")
    assert_error(closed, 409, "account_closed")
    assert closed.json()["error"]["message"] == "The payment cannot be made to this account."
    assert ledger_snapshot() == before


def test_a_customers_own_frozen_account_is_named_as_frozen(api_client_for, agnes, alice, alice_account,
                                                          bob_account, open_account):
    client, teller = api_client_for(alice), api_client_for(agnes)
    savings = open_account(alice, kind="savings")
    assert lifecycle(teller, savings, "freeze").status_code == 200

    to_own = transfer(client, alice_account, savings, "10.00")
    assert_error(to_own, 409, "account_frozen")
    assert "frozen" in to_own.json()["error"]["message"]

    assert lifecycle(teller, alice_account, "freeze").status_code == 200
    from_frozen = transfer(client, alice_account, bob_account, "10.00")
    assert_error(from_frozen, 409, "account_frozen")
    assert to_own.json()["error"]["message"] != "The payment cannot be made to this account."
    assert "is frozen" in from_frozen.json()["error"]["message"]
