"""Shared fixtures: the demo cast (agnes the agent, sam the supervisor, customers alice and bob),
funded accounts, and a ledger snapshot to prove that a refused operation changed nothing."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager

import pytest

# The shared helpers' asserts are rewritten by pytest (a failure shows its values) although the
# imports below load them before `pytest_plugins` could register them.
pytest.register_assert_rewrite("core.testing", "audit.tests", "banking.tests", "identity.tests")

from django.db import connection
from django.test import TransactionTestCase

from banking.ledger import internal_account
from banking.models import Account, AccountKind
from banking.tests.factories import AccountFactory, fund
from banking.tests.ledger import assert_ledger_unchanged, ledger_snapshot
from core.db.append_only import flush_allowed
from identity.tests.factories import AgentFactory, CustomerFactory, SupervisorFactory

# The API tests' fixtures (api_alice, api_client_for...) for every app's tests: requested by name,
# never imported across the layers.
pytest_plugins = ["core.testing.nats", "core.testing.redis", "banking.tests.api_support"]

ALICE_OPENING = 1_000_00  # 1000.00 EUR
BOB_OPENING = 500_00  # 500.00 EUR


@pytest.fixture(scope="session", autouse=True)
def flush_past_append_only_tables():
    """Transactional tests (threads, live servers) end with Django's flush, which the append-only
    triggers refuse. Let that flush, and only it, through."""
    original = TransactionTestCase._fixture_teardown

    def fixture_teardown(self):
        with flush_allowed(connection):
            original(self)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(TransactionTestCase, "_fixture_teardown", fixture_teardown)
        yield


@pytest.fixture
def snapshot() -> Callable[[], dict]:
    return ledger_snapshot


@pytest.fixture
def unchanged() -> Callable[[], AbstractContextManager[dict]]:
    """`with unchanged(): ...` snapshots the ledger and asserts, on the way out, that nothing moved."""

    @contextmanager
    def check() -> Iterator[dict]:
        before = ledger_snapshot()
        yield before
        assert_ledger_unchanged(before)

    return check


# --- People -----------------------------------------------------------------------------------


@pytest.fixture
def agnes(db):
    return AgentFactory(username="agnes", first_name="Agnes")


@pytest.fixture
def sam(db):
    return SupervisorFactory(username="sam", first_name="Sam")


@pytest.fixture
def alice(db):
    return CustomerFactory(username="alice", first_name="Alice")


@pytest.fixture
def bob(db):
    return CustomerFactory(username="bob", first_name="Bob")


# --- Accounts ---------------------------------------------------------------------------------


@pytest.fixture
def vault(db) -> Account:
    return internal_account(AccountKind.CASH, "EUR")


@pytest.fixture
def clearing(db) -> Account:
    return internal_account(AccountKind.CLEARING, "EUR")


@pytest.fixture
def open_account(agnes, sam) -> Callable[..., Account]:
    """Open an account for `customer` (agnes opens it; sam when it has an overdraft, which only a
    supervisor grants) and pay `balance` in at the counter."""

    def make(customer, *, balance: int = 0, **kwargs) -> Account:
        opener = sam if kwargs.get("overdraft_limit") else agnes
        account = AccountFactory(customer=customer, opened_by=opener, **kwargs)
        if balance:
            fund(account, balance, agent=agnes, approver=sam)
        return account

    return make


@pytest.fixture
def alice_account(open_account, alice, vault, clearing) -> Account:
    return open_account(alice, balance=ALICE_OPENING)


@pytest.fixture
def bob_account(open_account, bob, vault, clearing) -> Account:
    return open_account(bob, balance=BOB_OPENING)
