"""Onboarding at the desk: a new customer and their first account, in one go."""

from __future__ import annotations

from django.db import transaction

from banking.models import Account
from banking.policies import check_may_set_overdraft
from banking.services.accounts import account_open
from identity.models import User
from identity.services import customer_create


def customer_onboard(
    *,
    actor: User,
    username: str,
    first_name: str,
    last_name: str,
    email: str,
    kind: str,
    phone: str = "",
    address: str = "",
    password: str | None = None,
    currency: str | None = None,
    overdraft_limit: int = 0,
    base_url: str = "",
) -> tuple[User, Account]:
    """Create a customer (identity's customer_create) and open their first account (account_open)
    in one database transaction: either both exist, with their two audit events, or neither.
    Without a `password` the customer is mailed a one-time link to choose theirs (`base_url`
    starts it), once the transaction commits: a rolled-back onboarding mails nothing.

    Only a supervisor onboards with an overdraft (banking/policies.py), as with account_open.

    Errors: permission_denied (not staff, or an overdraft asked by someone other than a
    supervisor), validation_error (a taken username or email, a malformed field, or the account's
    kind, currency or overdraft). Whatever the error, nothing is created.
    """
    # account_open refuses it too, and its refusal would roll the customer back; asking first
    # means a refused onboarding never creates (even briefly) a customer or a password.
    check_may_set_overdraft(actor, overdraft_limit)
    with transaction.atomic():
        customer = customer_create(
            actor=actor, username=username, first_name=first_name, last_name=last_name, email=email,
            password=password, phone=phone, address=address, base_url=base_url,
        )
        account = account_open(
            actor=actor, customer_id=customer.pk, kind=kind, currency=currency, overdraft_limit=overdraft_limit
        )
        return customer, account
