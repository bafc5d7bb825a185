"""Transfers through the ledger services: between Flux accounts, to other banks, and the approval
threshold that makes a transfer pending with a hold.

Every refused operation is checked inside `unchanged()`: balances, holds, entries, transactions and
audit events are exactly as before."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import IntegrityError

from audit import actions
from audit.models import AuditEvent
from audit.tests.support import assert_audited, last_event
from banking.iban import generate_flux_iban
from banking.models import Account, AccountKind, Entry, Transaction, TransactionKind, TransactionStatus
from banking.services import account_close, account_freeze, deposit_create, transfer_create, withdrawal_create
from banking.tests.factories import EXTERNAL_IBAN, entries_of, fresh, pending_transfer
from banking.tests.ledger import assert_balanced
from core.errors import ApplicationError, NotFound
from core.testing.assertions import refused

EXTERNAL_NL_IBAN = "NL91ABNA0417164300"  # a valid Dutch IBAN of another bank


@pytest.fixture
def rich_account(open_account, alice, vault, clearing) -> Account:
    """Alice's second account, with 15000.00 EUR: enough to cross the approval threshold."""
    return open_account(alice, balance=15_000_00)


# --- Transfers between Flux accounts ----------------------------------------------------------


def test_transfer_between_flux_accounts_posts_both_sides(alice, alice_account, bob_account):
    txn = transfer_create(
        initiator=alice,
        source_account_id=alice_account.pk,
        destination_iban=bob_account.iban,
        amount=123_45,
        reference="  Dinner  ",
    )

    assert txn.kind == TransactionKind.TRANSFER
    assert txn.status == TransactionStatus.POSTED
    assert (txn.amount, txn.currency, txn.reference) == (123_45, "EUR", "Dinner")
    assert (txn.source_id, txn.destination_id, txn.external_iban) == (alice_account.pk, bob_account.pk, "")
    assert txn.posted_at is not None and txn.hold_amount == 0 and txn.initiated_by == alice
    debit, credit = entries_of(txn)
    assert (debit.account_id, debit.amount, debit.balance_after, debit.counterparty) == (
        alice_account.pk,
        -123_45,
        1_000_00 - 123_45,
        bob_account.iban,
    )
    assert (credit.account_id, credit.amount, credit.balance_after, credit.counterparty) == (
        bob_account.pk,
        123_45,
        500_00 + 123_45,
        alice_account.iban,
    )
    assert debit.amount + credit.amount == 0
    assert fresh(alice_account).balance == 1_000_00 - 123_45
    assert fresh(bob_account).balance == 500_00 + 123_45
    assert alice_account.held == bob_account.held == 0
    assert_balanced(alice_account)
    assert_balanced(bob_account)
    event = last_event()
    assert_audited(event, actor=alice, action=actions.TRANSACTION_POSTED, target_type="transaction", target_id=txn.pk)
    assert event.data == {
        "kind": "transfer",
        "status": "posted",
        "amount": "123.45",
        "currency": "EUR",
        "source": alice_account.iban,
        "destination": bob_account.iban,
        "reference": "Dinner",
    }


def test_transfer_accepts_a_formatted_destination_iban(alice, alice_account, bob_account):
    formatted = " ".join(bob_account.iban[i : i + 4] for i in range(0, len(bob_account.iban), 4)).lower()

    txn = transfer_create(
        initiator=alice, source_account_id=alice_account.pk, destination_iban=formatted, amount=1_00
    )

    assert txn.kind == TransactionKind.TRANSFER and txn.destination_id == bob_account.pk
    assert fresh(bob_account).balance == 501_00


def test_staff_may_transfer_from_a_customer_account(agnes, alice_account, bob_account):
    txn = transfer_create(
        initiator=agnes, source_account_id=alice_account.pk, destination_iban=bob_account.iban, amount=10_00
    )

    assert txn.status == TransactionStatus.POSTED and txn.initiated_by == agnes
    assert fresh(alice_account).balance == 990_00
    assert_audited(last_event(), actor=agnes, action=actions.TRANSACTION_POSTED, target_type="transaction",
                   target_id=txn.pk)


def test_spending_the_whole_balance_leaves_zero(alice, alice_account, bob_account):
    transfer_create(
        initiator=alice, source_account_id=alice_account.pk, destination_iban=bob_account.iban, amount=1_000_00
    )

    assert fresh(alice_account).balance == 0


# --- Transfers to other banks -----------------------------------------------------------------


@pytest.mark.parametrize("iban", [EXTERNAL_IBAN, EXTERNAL_NL_IBAN, "de89 3704 0044 0532 0130 00"])
def test_external_transfer_debits_the_customer_and_credits_clearing(alice, alice_account, clearing, iban):
    txn = transfer_create(initiator=alice, source_account_id=alice_account.pk, destination_iban=iban, amount=250_00)

    expected_iban = "".join(iban.split()).upper()
    assert txn.kind == TransactionKind.EXTERNAL_TRANSFER
    assert txn.status == TransactionStatus.POSTED
    assert txn.destination_id == clearing.pk and txn.external_iban == expected_iban
    debit, credit = entries_of(txn)
    assert (debit.account_id, debit.amount, debit.counterparty) == (alice_account.pk, -250_00, expected_iban)
    assert (credit.account_id, credit.amount, credit.counterparty) == (clearing.pk, 250_00, alice_account.iban)
    assert fresh(alice_account).balance == 750_00
    assert fresh(clearing).balance == 250_00
    event = last_event()
    assert_audited(event, actor=alice, action=actions.TRANSACTION_POSTED, target_type="transaction", target_id=txn.pk)
    assert event.data["kind"] == "external_transfer" and event.data["source"] == alice_account.iban


def test_external_transfer_audit_event_names_the_external_iban(alice, alice_account, clearing):
    txn = transfer_create(
        initiator=alice, source_account_id=alice_account.pk, destination_iban=EXTERNAL_IBAN, amount=1_00
    )

    event = AuditEvent.objects.get(action=actions.TRANSACTION_POSTED, target_id=str(txn.pk))
    assert EXTERNAL_IBAN in event.data.values()


def test_external_transfer_above_the_threshold_is_pending_and_held(alice, rich_account, clearing):
    txn = transfer_create(
        initiator=alice, source_account_id=rich_account.pk, destination_iban=EXTERNAL_IBAN, amount=12_000_00
    )

    assert txn.status == TransactionStatus.PENDING and txn.kind == TransactionKind.EXTERNAL_TRANSFER
    assert fresh(rich_account).held == 12_000_00 and rich_account.balance == 15_000_00
    assert fresh(clearing).balance == 0


@pytest.mark.parametrize(
    "iban",
    [
        "DE89370400440532013001",  # wrong check digits
        "NL00FLUX0123456789",
        "NL91ABNA041716430",  # too short
        "XX89370400440532013000",  # no such country
        "not an iban",
        "",
        "   ",
        None,
    ],
)
def test_transfer_to_an_invalid_iban_is_refused(alice, alice_account, unchanged, iban):
    with unchanged(), refused("invalid_iban"):
        transfer_create(initiator=alice, source_account_id=alice_account.pk, destination_iban=iban, amount=1_00)


def test_transfer_to_an_unknown_flux_iban_is_refused(alice, alice_account, unchanged):
    unknown = generate_flux_iban()
    assert not Account.objects.filter(iban=unknown).exists()

    with unchanged(), refused("unknown_account"):
        transfer_create(initiator=alice, source_account_id=alice_account.pk, destination_iban=unknown, amount=1_00)


@pytest.mark.parametrize("internal", ["vault", "clearing"])
def test_transfer_to_the_banks_own_account_is_refused(alice, alice_account, unchanged, request, internal):
    target = request.getfixturevalue(internal)

    with unchanged(), refused("unknown_account"):
        transfer_create(initiator=alice, source_account_id=alice_account.pk, destination_iban=target.iban, amount=1_00)


def test_staff_cannot_transfer_from_an_internal_account(agnes, vault, bob_account, unchanged):
    with unchanged(), refused("unknown_account"):
        transfer_create(initiator=agnes, source_account_id=vault.pk, destination_iban=bob_account.iban, amount=1_00)


def test_transfer_to_the_same_account_is_refused(alice, alice_account, unchanged):
    with unchanged(), refused("same_account"):
        transfer_create(
            initiator=alice, source_account_id=alice_account.pk, destination_iban=alice_account.iban, amount=1_00
        )


def test_transfer_between_currencies_is_refused(alice, bob, alice_account, open_account, unchanged):
    bob_usd = open_account(bob, currency="USD", balance=100_00)
    assert bob_usd.currency == "USD"

    with unchanged(), refused("currency_mismatch"):
        transfer_create(initiator=alice, source_account_id=alice_account.pk, destination_iban=bob_usd.iban, amount=1_00)
    with unchanged(), refused("currency_mismatch"):
        transfer_create(initiator=bob, source_account_id=bob_usd.pk, destination_iban=alice_account.iban, amount=1_00)


def test_external_transfer_in_another_currency_uses_that_currencys_clearing(bob, open_account):
    bob_usd = open_account(bob, currency="USD", balance=100_00)

    txn = transfer_create(initiator=bob, source_account_id=bob_usd.pk, destination_iban=EXTERNAL_IBAN, amount=40_00)

    assert txn.currency == "USD"
    assert txn.destination.kind == AccountKind.CLEARING and txn.destination.currency == "USD"
    assert fresh(txn.destination).balance == 40_00


@pytest.mark.parametrize("side", ["source", "destination"])
def test_transfer_touching_a_frozen_account_is_refused(alice, agnes, alice_account, bob_account, unchanged, side):
    frozen = alice_account if side == "source" else bob_account
    account_freeze(actor=agnes, account_id=frozen.pk, reason="Suspicious activity")

    with unchanged(), refused("account_frozen"):
        transfer_create(
            initiator=alice, source_account_id=alice_account.pk, destination_iban=bob_account.iban, amount=1_00
        )


def test_pending_transfer_touching_a_frozen_account_is_refused(alice, agnes, rich_account, bob_account, unchanged):
    account_freeze(actor=agnes, account_id=bob_account.pk, reason="Court order")

    with unchanged(), refused("account_frozen"):
        transfer_create(
            initiator=alice, source_account_id=rich_account.pk, destination_iban=bob_account.iban, amount=10_000_00
        )


def test_transfer_to_a_closed_account_is_refused(alice, bob, agnes, alice_account, open_account, unchanged):
    closed = open_account(bob)
    account_close(actor=agnes, account_id=closed.pk, reason="Customer request")

    with unchanged(), refused("account_closed"):
        transfer_create(initiator=alice, source_account_id=alice_account.pk, destination_iban=closed.iban, amount=1_00)


def test_transfer_from_a_closed_account_is_refused(alice, agnes, bob_account, open_account, unchanged):
    closed = open_account(alice)
    account_close(actor=agnes, account_id=closed.pk, reason="Customer request")

    with unchanged(), refused("account_closed"):
        transfer_create(initiator=alice, source_account_id=closed.pk, destination_iban=bob_account.iban, amount=1_00)


def test_transfer_beyond_the_balance_is_refused(alice, alice_account, bob_account, unchanged):
    with unchanged(), refused("insufficient_funds"):
        transfer_create(
            initiator=alice, source_account_id=alice_account.pk, destination_iban=bob_account.iban, amount=1_000_01
        )
    with unchanged(), refused("insufficient_funds"):
        transfer_create(
            initiator=alice, source_account_id=alice_account.pk, destination_iban=EXTERNAL_IBAN, amount=1_000_01
        )


def test_overdraft_allows_a_negative_balance_down_to_the_limit(alice, open_account, bob_account, unchanged):
    account = open_account(alice, overdraft_limit=100_00, balance=50_00)
    assert account.available == 150_00

    with unchanged(), refused("insufficient_funds"):
        transfer_create(initiator=alice, source_account_id=account.pk, destination_iban=bob_account.iban, amount=150_01)
    transfer_create(initiator=alice, source_account_id=account.pk, destination_iban=bob_account.iban, amount=150_00)

    assert fresh(account).balance == -100_00 and account.available == 0
    assert entries_of(Transaction.objects.latest("pk"))[0].balance_after == -100_00
    with unchanged(), refused("insufficient_funds"):
        transfer_create(initiator=alice, source_account_id=account.pk, destination_iban=bob_account.iban, amount=1)
    assert_balanced(account)


def test_customer_cannot_send_from_another_customers_account(bob, alice_account, bob_account, unchanged):
    with unchanged(), refused("not_found") as excinfo:
        transfer_create(initiator=bob, source_account_id=alice_account.pk, destination_iban=bob_account.iban, amount=1)
    assert isinstance(excinfo.value, NotFound)


@pytest.mark.parametrize("account_id", [10**9, "abc", None])
def test_transfer_from_a_missing_account_is_not_found(alice, bob_account, unchanged, account_id):
    with unchanged(), refused("not_found"):
        transfer_create(initiator=alice, source_account_id=account_id, destination_iban=bob_account.iban, amount=1)


def test_customer_cannot_see_the_banks_accounts(alice, vault, bob_account, unchanged):
    with unchanged(), refused("not_found"):
        transfer_create(initiator=alice, source_account_id=vault.pk, destination_iban=bob_account.iban, amount=1)


def test_reference_longer_than_140_characters_is_refused(alice, alice_account, bob_account, unchanged):
    with unchanged(), refused("validation_error") as excinfo:
        transfer_create(
            initiator=alice,
            source_account_id=alice_account.pk,
            destination_iban=bob_account.iban,
            amount=1_00,
            reference="x" * 141,
        )
    assert "reference" in excinfo.value.fields


@pytest.mark.parametrize("amount", [0, -5_00])
def test_transfer_of_a_non_positive_amount_is_a_validation_error(alice, alice_account, bob_account, unchanged, amount):
    with unchanged(), refused("validation_error"):
        transfer_create(
            initiator=alice, source_account_id=alice_account.pk, destination_iban=bob_account.iban, amount=amount
        )


@pytest.mark.parametrize("amount", [0, -5_00])
def test_a_non_positive_amount_never_moves_money(alice, agnes, alice_account, bob_account, unchanged, amount):
    """Whatever the error, the database constraint keeps a zero or negative movement out."""
    with unchanged(), pytest.raises((ApplicationError, IntegrityError)):
        transfer_create(
            initiator=alice, source_account_id=alice_account.pk, destination_iban=bob_account.iban, amount=amount
        )
    with unchanged(), pytest.raises((ApplicationError, IntegrityError)):
        deposit_create(initiator=agnes, account_id=alice_account.pk, amount=amount)
    with unchanged(), pytest.raises((ApplicationError, IntegrityError)):
        withdrawal_create(initiator=agnes, account_id=alice_account.pk, amount=amount)


# --- Approval threshold -----------------------------------------------------------------------


def test_transfer_at_the_threshold_is_pending_with_a_hold(alice, rich_account, bob_account):
    before = Entry.objects.count()

    txn = transfer_create(
        initiator=alice, source_account_id=rich_account.pk, destination_iban=bob_account.iban, amount=10_000_00
    )

    assert txn.status == TransactionStatus.PENDING
    assert txn.hold_amount == 10_000_00 and txn.posted_at is None
    assert txn.expires_at == txn.created_at + timedelta(days=7)
    assert Entry.objects.count() == before
    fresh(rich_account)
    assert rich_account.balance == 15_000_00
    assert rich_account.held == 10_000_00
    assert rich_account.available == 5_000_00
    assert fresh(bob_account).balance == 500_00
    assert_audited(last_event(), actor=alice, action=actions.TRANSACTION_PENDING, target_type="transaction",
                   target_id=txn.pk)


def test_transfer_just_below_the_threshold_posts(alice, rich_account, bob_account):
    txn = transfer_create(
        initiator=alice, source_account_id=rich_account.pk, destination_iban=bob_account.iban, amount=9_999_99
    )

    assert txn.status == TransactionStatus.POSTED
    assert fresh(rich_account).balance == 15_000_00 - 9_999_99 and rich_account.held == 0


def test_a_hold_cannot_be_spent_twice(alice, agnes, rich_account, bob_account, unchanged):
    pending_transfer(alice, rich_account, bob_account, 10_000_00)

    with unchanged(), refused("insufficient_funds"):
        transfer_create(
            initiator=alice, source_account_id=rich_account.pk, destination_iban=bob_account.iban, amount=5_000_01
        )
    with unchanged(), refused("insufficient_funds"):
        pending_transfer(alice, rich_account, bob_account, 10_000_00)
    with unchanged(), refused("insufficient_funds"):
        withdrawal_create(initiator=agnes, account_id=rich_account.pk, amount=5_000_01)
    transfer_create(
        initiator=alice, source_account_id=rich_account.pk, destination_iban=bob_account.iban, amount=5_000_00
    )
    assert fresh(rich_account).available == 0


def test_pending_transfer_beyond_the_available_amount_is_refused(alice, alice_account, bob_account, unchanged):
    with unchanged(), refused("insufficient_funds"):
        transfer_create(
            initiator=alice, source_account_id=alice_account.pk, destination_iban=bob_account.iban, amount=10_000_00
        )


def test_approval_threshold_follows_the_settings(settings, alice, alice_account, bob_account):
    settings.FLUX_APPROVAL_THRESHOLD = Decimal("100.00")
    settings.FLUX_PENDING_TTL_DAYS = 2

    below = transfer_create(
        initiator=alice, source_account_id=alice_account.pk, destination_iban=bob_account.iban, amount=99_99
    )
    at = transfer_create(
        initiator=alice, source_account_id=alice_account.pk, destination_iban=bob_account.iban, amount=100_00
    )

    assert below.status == TransactionStatus.POSTED
    assert at.status == TransactionStatus.PENDING and at.expires_at == at.created_at + timedelta(days=2)
    assert fresh(alice_account).held == 100_00


def test_cash_threshold_follows_the_settings(settings, agnes, alice_account):
    settings.FLUX_CASH_APPROVAL_THRESHOLD = Decimal("20.00")

    assert deposit_create(initiator=agnes, account_id=alice_account.pk, amount=19_99).status == "posted"
    assert deposit_create(initiator=agnes, account_id=alice_account.pk, amount=20_00).status == "pending"
    assert withdrawal_create(initiator=agnes, account_id=alice_account.pk, amount=19_99).status == "posted"
    assert withdrawal_create(initiator=agnes, account_id=alice_account.pk, amount=20_00).status == "pending"
