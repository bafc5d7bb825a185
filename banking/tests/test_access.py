"""The access rule in its two forms (a queryset for lists and look-ups, a test on one row already
read for the transfer's single locked read) says the same, and a transfer from an account the
initiator may not use is not_found whatever its destination, with nothing moved."""

from __future__ import annotations

import pytest

from banking.access import account_visible_to, accounts_visible_to
from banking.models import Account
from banking.services import transfer_create
from core.testing.assertions import refused


def test_account_visible_to_says_what_accounts_visible_to_says(alice, bob, agnes, sam, alice_account, bob_account,
                                                              open_account):
    open_account(alice, currency="USD")
    accounts = list(Account.objects.all())  # the customers' and the bank's own (vault, clearing)
    assert len(accounts) >= 5
    for user in (alice, bob, agnes, sam):
        visible = set(accounts_visible_to(user).values_list("pk", flat=True))
        assert {account.pk for account in accounts if account_visible_to(user, account)} == visible


@pytest.mark.parametrize("destination", ["own", "payer's own", "another customer's"])
def test_a_transfer_from_an_account_not_the_initiators_is_not_found(alice, bob, alice_account, bob_account,
                                                                    open_account, unchanged, destination):
    iban = {
        "own": bob_account.iban,
        "payer's own": alice_account.iban,  # the locked read finds alice's account by its IBAN too
        "another customer's": open_account(alice).iban,
    }[destination]
    with unchanged(), refused("not_found"):
        transfer_create(initiator=bob, source_account_id=alice_account.pk, destination_iban=iban, amount=1_00)
