"""Shared fixtures, for every app's tests (requested by name, never imported across the layers):
the one cast (agnes and arthur the agents, sam the supervisor, customers alice, bob and carol),
their accounts opened and funded through the services, a ledger snapshot to prove that a refused
operation changed nothing, and the API's: a client per person signed in with a real JWT, and a
pending transfer."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager

import pytest

# The shared helpers' asserts are rewritten by pytest (a failure shows its values) although the
# imports below load them before `pytest_plugins` could register them.
pytest.register_assert_rewrite("core.testing", "audit.tests", "banking.tests", "identity.tests")

from django.db import connection
from django.test import TransactionTestCase
from django.utils import translation
from rest_framework.test import APIClient

from banking.ledger import internal_account
from banking.models import Account, AccountKind
from banking.tests.factories import AccountFactory, fund
from banking.tests.ledger import assert_ledger_unchanged, ledger_snapshot
from banking.tests.support import transfer
from core.db.append_only import flush_allowed
from core.testing.api import client_for, obtain_tokens
from identity.models import User
from identity.tests.factories import AgentFactory, CustomerFactory, SupervisorFactory

pytest_plugins = ["core.testing.nats", "core.testing.redis"]

ALICE_OPENING = 1_000_00  # 1000.00 EUR
BOB_OPENING = 500_00  # 500.00 EUR


@pytest.fixture(autouse=True)
def no_request_id_left_over():
    """Each test starts outside any request: a response a test never closed (a stream read only in
    part) leaves its request id set in the worker's context, and audit events recorded by the next
    test's direct service calls would carry it."""
    from core.request_id import clear_request_id

    clear_request_id()


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


@pytest.fixture(autouse=True)
def default_language() -> Iterator[None]:
    """Each test ends in the default language. Django's LocaleMiddleware activates the language of
    a request (a test client with `django_language=fr`) in the thread and never deactivates it, so
    a French page left French on for the next tests of the process: a statement then came out in
    French and its test failed, depending on the order the tests ran in."""
    yield
    translation.deactivate()


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
def arthur(db):
    """A second agent."""
    return AgentFactory(username="arthur", first_name="Arthur")


@pytest.fixture
def sam(db):
    return SupervisorFactory(username="sam", first_name="Sam")


@pytest.fixture
def alice(db):
    # Known last names: the customer search is tested by them.
    return CustomerFactory(username="alice", first_name="Alice", last_name="Liddell")


@pytest.fixture
def bob(db):
    return CustomerFactory(username="bob", first_name="Bob", last_name="Builder")


@pytest.fixture
def carol(db):
    """A third customer, with an empty account (carol_account) or none."""
    return CustomerFactory(username="carol", first_name="Carol", last_name="Danvers")


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


@pytest.fixture
def carol_account(open_account, carol, vault, clearing) -> Account:
    return open_account(carol)


@pytest.fixture
def rich_account(open_account, alice, vault, clearing) -> Account:
    """Alice's second account with 30000.00 EUR, enough for transfers that need approval. (Some
    service test modules have their own, with 15000.00.)"""
    return open_account(alice, balance=30_000_00)


# --- The API ------------------------------------------------------------------------------------


@pytest.fixture
def api_client_for(db) -> Callable[[User | None], APIClient]:
    """`api_client_for(user)`: an APIClient with a real JWT from POST auth/token/ (one sign-in per
    user within a test); anonymous for None."""
    tokens: dict[int, str] = {}

    def make(user: User | None) -> APIClient:
        if user is None:
            return APIClient()
        if user.pk not in tokens:
            tokens[user.pk] = obtain_tokens(user)["access"]
        return client_for(user, access=tokens[user.pk])

    return make


@pytest.fixture
def api_unchanged(api_client_for, unchanged) -> Callable[[], AbstractContextManager[dict]]:
    """`with api_unchanged(): ...`: `unchanged` for API requests. Every active user signs in first
    (through `api_client_for`'s cache), so that a sign-in inside the block, itself audited, is not
    mistaken for a change made by the refused request."""

    @contextmanager
    def check() -> Iterator[dict]:
        for user in User.objects.filter(is_active=True):
            api_client_for(user)
        with unchanged() as before:
            yield before

    return check


@pytest.fixture
def pending_transfer(api_client_for, alice, rich_account, bob_account) -> dict:
    """A 12000.00 transfer by Alice through the API, waiting for approval (its JSON)."""
    response = transfer(api_client_for(alice), rich_account, bob_account, "12000.00")
    assert response.status_code == 201 and response.json()["status"] == "pending", response.content
    return response.json()
