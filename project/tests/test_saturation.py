"""Saturation: a request that gets no database connection from the pool within its timeout is
answered 503 service_unavailable with Retry-After, in the error shape, and applies nothing;
never a 500 (DESIGN.md, "Status codes"; issue 11).

The pool here is real: the default database's pool is swapped for a one-connection psycopg pool
whose only connection is taken, so the request's first query waits for the pool's timeout and gets
psycopg_pool.PoolTimeout, exactly as under load (test_capacity_server.py starves a real server's
pool with a request that holds its only connection)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager

import pytest
from django.db import connection, connections
from django.test import Client

from banking.tests.ledger import ledger_snapshot
from banking.tests.support import transfer
from core.db.pool import RETRY_AFTER_SECONDS, is_pool_exhausted
from core.testing.api import assert_error, bearer_client

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]


@pytest.fixture
def exhausted_pool() -> Callable[[], AbstractContextManager[None]]:
    """`with exhausted_pool(): ...`: inside, the default database's pool has one connection, taken."""
    if connection.vendor != "postgresql" or not connection.pool:
        pytest.skip("the connection pool is PostgreSQL's (set DATABASE_URL)")
    from psycopg_pool import ConnectionPool

    @contextmanager
    def exhausted() -> Iterator[None]:
        pools = type(connections["default"])._connection_pools
        connection.close()  # the test's own connection goes back to the real pool
        original = pools["default"]
        tiny = ConnectionPool(
            kwargs=connection.get_connection_params() | {"autocommit": True}, min_size=1, max_size=1,
            timeout=0.2, open=True, name="flux-test-exhausted",
        )
        held = tiny.getconn()
        pools["default"] = tiny
        try:
            yield
        finally:
            connection.close()
            pools["default"] = original
            tiny.putconn(held)
            tiny.close()

    return exhausted


def assert_service_unavailable(response) -> None:
    assert_error(response, 503, "service_unavailable")
    assert response["Retry-After"] == str(RETRY_AFTER_SECONDS)
    assert "nothing was applied" in response.json()["error"]["message"]


def test_an_api_transfer_without_a_connection_is_refused_with_503_and_moves_nothing(
    exhausted_pool, alice, alice_account, bob_account
):
    client = bearer_client(alice)
    before = ledger_snapshot()
    with exhausted_pool():
        response = transfer(client, alice_account, bob_account, "5.00")
    assert_service_unavailable(response)
    assert ledger_snapshot() == before
    # The same request goes through once a connection is free again.
    assert transfer(client, alice_account, bob_account, "5.00").status_code == 201


def test_a_page_without_a_connection_is_a_plain_503_page(exhausted_pool, alice, alice_account):
    client = Client()
    client.force_login(alice)
    with exhausted_pool():
        response = client.get("/app/", HTTP_ACCEPT_LANGUAGE="fr")
    assert response.status_code == 503
    assert response["Retry-After"] == str(RETRY_AFTER_SECONDS)
    assert response["Content-Type"].startswith("text/html")
    page = response.content.decode()
    assert '<html lang="fr"' in page
    assert "Flux" in page and "<h1" in page


def test_a_middleware_without_a_connection_gets_the_503_too(exhausted_pool, sam, settings):
    """Staff pages check the second factor in a middleware, before any view: its query fails the
    same way, and the last-resort 500 handler still answers 503."""
    settings.FLUX_REQUIRE_2FA = True
    client = Client(raise_request_exception=False)
    client.force_login(sam)
    with exhausted_pool():
        response = client.get("/agent/")
    assert response.status_code == 503
    assert response["Retry-After"] == str(RETRY_AFTER_SECONDS)


def test_only_the_pools_timeout_counts_as_saturation():
    from django.db import OperationalError
    from psycopg_pool import PoolTimeout

    wrapped = OperationalError("couldn't get a connection after 0.20 sec")
    wrapped.__cause__ = PoolTimeout("couldn't get a connection after 0.20 sec")
    assert is_pool_exhausted(wrapped)
    assert not is_pool_exhausted(OperationalError("deadlock detected"))
    assert not is_pool_exhausted(RuntimeError("boom"))
