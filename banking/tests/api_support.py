"""Fixtures and helpers for the REST API tests (identity and banking).

The shared fixtures are prefixed `api_` so they never clash with the project-wide `conftest.py`,
which registers this module as a plugin: every app's tests request them by name. People are real
users, accounts are opened and funded through the services, and every API client signs in with a
real JWT from POST /api/v1/auth/token/.

The banking API modules (test_api_*.py) also share the request helpers and URLs here, and the two
scenario fixtures at the end, `rich_account` and `pending_transfer`: those keep the names their
tests request (no fixture in `conftest.py` has either name).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
from rest_framework.test import APIClient

from banking.models import Account
from banking.services import account_open
from banking.tests.factories import fund
from banking.tests.ledger import ledger_snapshot
from core.testing.api import API, idempotency_key, obtain_tokens, post
from identity.models import Role, User
from identity.tests.factories import make_user

ACCOUNTS = f"{API}accounts/"
TRANSFERS = f"{API}transfers/"
DEPOSITS = f"{API}deposits/"
WITHDRAWALS = f"{API}withdrawals/"
EXTERNAL_IBAN = "DE89370400440532013000"

__all__ = [
    "ACCOUNTS",
    "DEPOSITS",
    "EXTERNAL_IBAN",
    "TRANSFERS",
    "WITHDRAWALS",
    "api_agent",
    "api_agent2",
    "api_alice",
    "api_alice_account",
    "api_bob",
    "api_bob_account",
    "api_carol",
    "api_carol_account",
    "api_client_for",
    "api_make_user",
    "api_open_account",
    "api_supervisor",
    "api_unchanged",
    "balance_of",
    "cash",
    "client_for",
    "fresh",
    "lifecycle",
    "open_account",
    "pending_transfer",
    "rich_account",
    "transfer",
]


# --- Plain helpers (usable from threads and transactional tests too) -----------------------------


def open_account(
    customer: User, *, agent: User, approver: User, balance: int = 0, kind: str = "checking",
    currency: str = "EUR", overdraft_limit: int = 0,
) -> Account:
    # Only a supervisor grants an overdraft (banking/policies.py): the approver opens such an account.
    account = account_open(
        actor=approver if overdraft_limit else agent, customer_id=customer.pk, kind=kind, currency=currency,
        overdraft_limit=overdraft_limit,
    )
    if balance:
        fund(account, balance, agent=agent, approver=approver)
    account.refresh_from_db()
    return account


def client_for(user: User | None, *, access: str | None = None) -> APIClient:
    """An APIClient signed in as `user` with a real access token (anonymous when `user` is None)."""
    client = APIClient()
    if user is not None:
        access = access or obtain_tokens(user)["access"]
    if access:
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    return client


def balance_of(account: Account) -> int:
    account.refresh_from_db()
    return account.balance


# --- Banking API requests (shared by the test_api_*.py modules) ----------------------------------




def transfer(client: APIClient, source: Account, destination: str | Account, amount: str, *, key: str | None = "",
             **extra):
    if isinstance(destination, Account):
        destination = destination.iban
    body = {"source_account": source.pk, "destination_iban": destination, "amount": amount} | extra
    return post(client, TRANSFERS, body, key=idempotency_key() if key == "" else key)


def cash(client: APIClient, url: str, account: Account, amount: str, **extra):
    return post(client, url, {"account": account.pk, "amount": amount} | extra, key=idempotency_key())


def fresh(account: Account) -> Account:
    account.refresh_from_db()
    return account


def lifecycle(client, account: Account, action: str, reason: str | None = "Customer request"):
    return post(client, f"{ACCOUNTS}{account.pk}/{action}/", {} if reason is None else {"reason": reason})


# --- Fixtures ------------------------------------------------------------------------------------


@pytest.fixture
def api_make_user(db) -> Callable[..., User]:
    return make_user


@pytest.fixture
def api_agent(db) -> User:
    return make_user("api_agnes", Role.AGENT, first_name="Agnes", last_name="Agent")


@pytest.fixture
def api_agent2(db) -> User:
    return make_user("api_arthur", Role.AGENT, first_name="Arthur", last_name="Agent")


@pytest.fixture
def api_supervisor(db) -> User:
    return make_user("api_sam", Role.SUPERVISOR, first_name="Sam", last_name="Supervisor")


@pytest.fixture
def api_alice(db) -> User:
    return make_user("api_alice", first_name="Alice", last_name="Liddell", email="alice.liddell@example.test")


@pytest.fixture
def api_bob(db) -> User:
    return make_user("api_bob", first_name="Bob", last_name="Builder", email="bob.builder@example.test")


@pytest.fixture
def api_carol(db) -> User:
    return make_user("api_carol", first_name="Carol", last_name="Danvers", email="carol@example.test")


@pytest.fixture
def api_open_account(api_agent, api_supervisor) -> Callable[..., Account]:
    """`api_open_account(customer, balance=100_00, ...)`: opened by the agent (by the supervisor with
    an overdraft), funded at the counter."""

    def make(customer: User, **kwargs) -> Account:
        return open_account(customer, agent=api_agent, approver=api_supervisor, **kwargs)

    return make


@pytest.fixture
def api_alice_account(api_open_account, api_alice) -> Account:
    return api_open_account(api_alice, balance=1_000_00)  # 1000.00 EUR


@pytest.fixture
def api_bob_account(api_open_account, api_bob) -> Account:
    return api_open_account(api_bob, balance=500_00)  # 500.00 EUR


@pytest.fixture
def api_carol_account(api_open_account, api_carol) -> Account:
    return api_open_account(api_carol, balance=0)


@pytest.fixture
def api_client_for(db) -> Callable[[User | None], APIClient]:
    """`api_client_for(user)`: an APIClient with a real JWT (cached per user within a test)."""
    tokens: dict[int, str] = {}

    def make(user: User | None) -> APIClient:
        if user is None:
            return APIClient()
        if user.pk not in tokens:
            tokens[user.pk] = obtain_tokens(user)["access"]
        return client_for(user, access=tokens[user.pk])

    return make


@pytest.fixture
def api_unchanged(api_client_for) -> Callable[[], contextmanager]:
    """`with api_unchanged(): ...` asserts on the way out that nothing in the ledger moved.

    Every active user signs in first (through `api_client_for`'s cache), so that a sign-in inside
    the block, itself audited, is not mistaken for a change made by the refused request."""

    @contextmanager
    def check() -> Iterator[dict]:
        for user in User.objects.filter(is_active=True):
            api_client_for(user)
        before = ledger_snapshot()
        yield before
        after = ledger_snapshot()
        for part in before:
            assert after[part] == before[part], f"{part} changed by a refused request"

    return check


# --- Banking API scenarios -----------------------------------------------------------------------


@pytest.fixture
def rich_account(api_open_account, api_alice) -> Account:
    """Alice's second account with 30000.00 EUR, enough for transfers that need approval."""
    return api_open_account(api_alice, balance=30_000_00)


@pytest.fixture
def pending_transfer(api_client_for, api_alice, rich_account, api_bob_account) -> dict:
    """A 12000.00 transfer by Alice, waiting for approval."""
    response = transfer(api_client_for(api_alice), rich_account, api_bob_account, "12000.00")
    assert response.status_code == 201 and response.json()["status"] == "pending", response.content
    return response.json()
