"""What one POST transfers/ costs the database, counted, not timed (issue 11: 25 statements with
production's database cache, 19 in tests). The bound is today's count: a change that adds a
round trip to every transfer fails here and has to say why. BEGIN and COMMIT are counted (Django
captures them); PostgreSQL only, where the count is production's."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from banking.tests.support import DEPOSITS, cash, transfer
from core.testing.api import API, bearer_client

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="counts PostgreSQL's statements"),
]

# The plain transfer (a customer's, between Flux accounts, no payee name, below the approval
# threshold): the user (simplejwt), then one call of flux_transfer_posted, which claims the key,
# locks, checks and writes everything in its own transaction (services.transfer_posted_at_once).
# 7 statements before it, 14 before the one-statement write and the joined transaction (issue 11).
MAX_STATEMENTS_PER_PLAIN_TRANSFER = 2

# With the payee's name to check, the Python path (issue 14: the holder's name in the same locked
# read): BEGIN; the key claimed; the source and the destination read and locked at once; the
# transaction, its entries, the two balances, the audit event and its outbox row in one statement
# (WITH ...: banking.ledger.Postings._flush_one); the key's response; COMMIT. No SAVEPOINT: the
# service joins run_once's transaction (core.db.atomic.atomic_joined). The user is read before.
MAX_STATEMENTS_PER_TRANSFER = 7


def _transfer_statements(alice, alice_account, bob_account, named: dict) -> tuple[list[str], str]:
    client = bearer_client(alice)
    assert transfer(client, alice_account, bob_account, "0.01", **named).status_code == 201  # warm caches
    with CaptureQueriesContext(connection) as captured:
        response = transfer(client, alice_account, bob_account, "0.01", **named)
    assert response.status_code == 201, response.content
    assert response.json()["payee_check"] == ("match" if named else "")
    statements = [query["sql"] for query in captured.captured_queries]
    listing = "\n".join(sql[:120] for sql in statements)
    # The rate limit counts outside the database, the new transaction is not read back, and no
    # NOTIFY serialises the commit with every other notifying one (the relay polls).
    assert not any("cache" in sql.lower() for sql in statements), listing
    assert not any(sql.startswith('SELECT "banking_transaction"') for sql in statements), listing
    assert not any("notify" in sql.lower() for sql in statements), listing
    assert not any("savepoint" in sql.lower() for sql in statements), listing
    return statements, listing


def test_a_plain_transfer_is_one_call_after_the_user_is_read(alice, alice_account, bob_account):
    statements, listing = _transfer_statements(alice, alice_account, bob_account, {})
    assert len(statements) <= MAX_STATEMENTS_PER_PLAIN_TRANSFER, f"{len(statements)} statements:\n{listing}"
    others = [sql for sql in statements if not sql.startswith('SELECT "identity_user"')]
    assert len(others) == 1 and others[0].startswith("SELECT flux_transfer_posted("), listing


def test_a_transfer_naming_its_payee_runs_a_bounded_number_of_statements(alice, alice_account, bob_account):
    statements, listing = _transfer_statements(alice, alice_account, bob_account, {"beneficiary_name": "Bob Builder"})
    assert len(statements) <= MAX_STATEMENTS_PER_TRANSFER, f"{len(statements)} statements:\n{listing}"
    assert not any("flux_transfer_posted" in sql for sql in statements), listing
    writes = [sql for sql in statements if 'INSERT INTO "banking_entry"' in sql]
    assert len(writes) == 1 and 'INSERT INTO "audit_outboxmessage"' in writes[0], listing


@pytest.mark.parametrize("kind", ["transfer", "deposit"])
def test_the_answer_to_a_new_movement_is_what_reading_it_back_gives(
    kind, alice, agnes, alice_account, bob_account
):
    """The 201 body is built from the service's own objects, not read back: it must be exactly
    what GET transactions/{id}/ says about the same transaction."""
    if kind == "transfer":
        client = bearer_client(alice)
        created = transfer(client, alice_account, bob_account, "12.34", reference="Rent")
    else:
        client = bearer_client(agnes)
        created = cash(client, DEPOSITS, alice_account, "56.78", reference="Counter")
    assert created.status_code == 201, created.content
    body = created.json()
    read_back = client.get(f"{API}transactions/{body['id']}/")
    assert read_back.status_code == 200
    assert read_back.json() == body


def test_a_connection_prepares_the_transfer_statements_it_repeats(alice, alice_account, bob_account):
    """Server-side binding with prepared statements (settings "Database"): after a few transfers the
    connection holds plans for them, so PostgreSQL stops parsing and planning each one again."""
    client = bearer_client(alice)
    for _ in range(6):
        assert transfer(client, alice_account, bob_account, "0.01").status_code == 201
        assert transfer(client, alice_account, bob_account, "0.01", beneficiary_name="Bob").status_code == 201
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        prepared = [row[0] for row in cursor.fetchall()]
    assert any(statement.startswith("SELECT flux_transfer_posted(") for statement in prepared), prepared
    assert any("FOR UPDATE" in statement and "banking_account" in statement for statement in prepared), prepared
    assert any(statement.startswith('WITH t AS (INSERT INTO "banking_transaction"') for statement in prepared), prepared
