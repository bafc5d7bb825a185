"""Bulk imports applied concurrently (PostgreSQL row locks): two requests for the same chunk, or two
uploads of the same file by two members of staff at once, apply each line exactly once."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from banking.models import Entry, Transaction
from banking.tests.factories import fresh
from banking.tests.ledger import assert_balanced
from workspace.imports.services import import_apply_next, import_create
from workspace.tests.test_services_imports import csv_bytes, statuses

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL (row locks, real concurrency)"),
]


def together(*calls) -> None:
    """Run the calls in threads released at once; re-raise anything one raised."""
    barrier = threading.Barrier(len(calls))
    errors: list[BaseException] = []

    def run(call) -> None:
        try:
            barrier.wait()
            call()
        except BaseException as exc:  # noqa: BLE001 - reported below, never lost in a thread
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a thread hung"
    assert not errors, errors


def test_the_same_chunk_asked_twice_at_once_applies_each_line_once(agnes, alice_account):
    batch = import_create(uploader=agnes, file_name="twice.csv", content=csv_bytes(
        *[f"deposit,{alice_account.iban},1.00,,c{n}" for n in range(40)]))
    before, entries = fresh(alice_account).balance, Entry.objects.count()

    together(*[lambda: import_apply_next(actor=agnes, batch_id=batch.pk, limit=25)] * 3)

    assert set(statuses(batch).values()) == {"applied"}
    assert fresh(alice_account).balance == before + 40_00
    assert Entry.objects.count() == entries + 80
    assert Transaction.objects.filter(reference__startswith="c").count() == 40
    assert_balanced(alice_account)


def test_two_uploads_of_one_file_applied_at_once_apply_it_once(agnes, sam, alice_account, bob_account):
    content = csv_bytes(*[f"transfer,{alice_account.iban},1.00,{bob_account.iban},t{n}" for n in range(30)])
    first = import_create(uploader=agnes, file_name="a.csv", content=content)
    second = import_create(uploader=sam, file_name="b.csv", content=content)
    before = fresh(alice_account).balance + fresh(bob_account).balance
    bob_before = fresh(bob_account).balance

    together(lambda: import_apply_next(actor=agnes, batch_id=first.pk),
             lambda: import_apply_next(actor=sam, batch_id=second.pk))

    results = sorted([set(statuses(first).values()), set(statuses(second).values())], key=sorted)
    assert results == [{"already"}, {"applied"}]
    assert fresh(bob_account).balance == bob_before + 30_00
    assert fresh(alice_account).balance + fresh(bob_account).balance == before
    assert Transaction.objects.filter(reference__startswith="t").count() == 30
    assert_balanced(alice_account)
    assert_balanced(bob_account)
