"""Only a supervisor sets an overdraft (issue 10, finding 1): the rule in banking/policies.py, and
every service that can give an account a limit (account_open, customer_onboard,
account_set_overdraft_limit) refusing anyone else before writing anything."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser

from audit.models import AuditEvent
from banking.models import Account
from banking.policies import check_may_set_overdraft, may_set_overdraft
from banking.services import account_open, account_set_overdraft_limit, customer_onboard
from core.testing.assertions import refused
from identity.models import User

pytestmark = pytest.mark.django_db


def counts() -> tuple[int, int, int]:
    return User.objects.count(), Account.objects.count(), AuditEvent.objects.count()


# --- The rule ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "overdraft_limit", "allowed"),
    [
        ("sam", None, True),
        ("sam", 1, True),
        ("sam", 1_000_000_00, True),
        ("sam", 0, True),
        ("agnes", None, False),
        ("agnes", 1, False),
        ("agnes", 1_000_000_00, False),
        ("agnes", 0, True),  # no overdraft: nothing granted
        ("alice", None, False),
        ("alice", 50_00, False),
        ("anonymous", 50_00, False),
    ],
)
def test_only_a_supervisor_may_set_an_overdraft(request, who, overdraft_limit, allowed):
    user = AnonymousUser() if who == "anonymous" else request.getfixturevalue(who)
    assert may_set_overdraft(user, overdraft_limit) is allowed
    if allowed:
        check_may_set_overdraft(user, overdraft_limit)
    else:
        with refused("permission_denied"):
            check_may_set_overdraft(user, overdraft_limit)


# --- account_open -----------------------------------------------------------------------------


@pytest.mark.parametrize("overdraft_limit", [1, 1_000_000_00])
def test_an_agent_cannot_open_an_account_with_an_overdraft(agnes, alice, unchanged, overdraft_limit):
    before = counts()
    with unchanged(), refused("permission_denied") as refusal:
        account_open(actor=agnes, customer_id=alice.pk, kind="checking", overdraft_limit=overdraft_limit)
    assert "supervisor" in refusal.value.message
    assert counts() == before
    assert not Account.objects.filter(customer=alice).exists()


def test_the_overdraft_refusal_comes_before_the_validation(agnes, alice, unchanged):
    """An agent asking for an overdraft learns nothing else about the request (nor about the
    customer id): the permission is decided first."""
    with unchanged(), refused("permission_denied"):
        account_open(actor=agnes, customer_id=10**9, kind="gold", overdraft_limit=-5)


def test_an_agent_opens_an_account_without_overdraft(agnes, alice):
    account = account_open(actor=agnes, customer_id=alice.pk, kind="checking", overdraft_limit=0)
    assert account.overdraft_limit == 0 and account.available == 0


def test_a_supervisor_opens_an_account_with_an_overdraft(sam, alice):
    account = account_open(actor=sam, customer_id=alice.pk, kind="checking", overdraft_limit=1_000_00)
    assert Account.objects.get(pk=account.pk).overdraft_limit == 1_000_00
    assert account.available == 1_000_00


# --- customer_onboard -------------------------------------------------------------------------


def onboard(actor, **extra):
    return customer_onboard(actor=actor, username="carol", first_name="Carol", last_name="Jones",
                            email="carol@example.test", kind="checking", **extra)


def test_an_agent_cannot_onboard_with_an_overdraft(agnes, unchanged):
    before = counts()
    with unchanged(), refused("permission_denied"):
        onboard(agnes, overdraft_limit=1_000_000_00)
    assert counts() == before
    assert not User.objects.filter(username="carol").exists()


def test_a_supervisor_onboards_with_an_overdraft(sam):
    customer, account = onboard(sam, overdraft_limit=500_00)
    assert (account.customer, Account.objects.get(pk=account.pk).overdraft_limit) == (customer, 500_00)


def test_an_agent_onboards_without_an_overdraft(agnes):
    _customer, account = onboard(agnes)
    assert account.overdraft_limit == 0


# --- account_set_overdraft_limit --------------------------------------------------------------


@pytest.mark.parametrize("overdraft_limit", [0, 100_00])
def test_an_agent_changes_no_limit_not_even_to_zero(sam, agnes, alice, unchanged, overdraft_limit):
    """Lowering a limit is a credit decision too: a change is a supervisor's whatever the value."""
    account = account_open(actor=sam, customer_id=alice.pk, kind="checking", overdraft_limit=50_00)
    with unchanged(), refused("permission_denied"):
        account_set_overdraft_limit(actor=agnes, account_id=account.pk, overdraft_limit=overdraft_limit,
                                    reason="Asked by the customer")
    assert Account.objects.get(pk=account.pk).overdraft_limit == 50_00
