"""A username or an email taken by a concurrent request, on real PostgreSQL: the services check
first (a clear error), but a second request can pass that check while the first has not committed.
The database's constraints (identity.models: case-insensitive username and email) then refuse the
second insert, and the service answers the field's validation error, never a 500, leaving
nothing of its own behind (no user, no audit event, no change to the customer)."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection, transaction

from audit.models import AuditEvent
from core.errors import ValidationFailed
from identity.models import Role, User
from identity.services import customer_create, customer_update_contact
from identity.tests.factories import AgentFactory, CustomerFactory

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL (concurrent transactions)"),
]


def blocked_on_a_lock() -> bool:
    """Some other backend of this database waits on a lock (the second insert, on the first's
    uncommitted row in the unique index)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
        )
        return cursor.fetchone()[0] > 0


def while_a_row_is_uncommitted(username: str, email: str, second) -> object:
    """Insert a user (`username`, `email`) in a transaction left open, run `second` in another
    thread until it waits on that row, then commit the first. What `second` returned or raised."""
    inserted, release, outcome = threading.Event(), threading.Event(), {}

    def first() -> None:
        try:
            with transaction.atomic():
                User.objects.create_user(username=username, email=email, role=Role.CUSTOMER)
                inserted.set()
                release.wait(timeout=60)
        finally:
            connection.close()

    def run_second() -> None:
        try:
            outcome["value"] = second()
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            outcome["value"] = exc
        finally:
            connection.close()

    one = threading.Thread(target=first)
    one.start()
    assert inserted.wait(timeout=30)
    two = threading.Thread(target=run_second)
    two.start()
    deadline = time.monotonic() + 30
    while not blocked_on_a_lock():
        assert time.monotonic() < deadline, "the second request never waited on the first's row"
        assert two.is_alive(), f"the second request finished without waiting: {outcome}"
        time.sleep(0.02)
    release.set()
    one.join(timeout=60)
    two.join(timeout=60)
    assert not one.is_alive() and not two.is_alive()
    return outcome["value"]


def test_a_customer_created_with_an_email_another_request_is_taking_is_a_validation_error():
    agent = AgentFactory()
    events_before = AuditEvent.objects.count()

    refused = while_a_row_is_uncommitted("dora", "dora@example.test", lambda: customer_create(
        actor=agent, username="dora2", first_name="Dora", last_name="Twin", email="DORA@example.test",
        password="a-long-enough-password-2026",
    ))

    assert isinstance(refused, ValidationFailed), refused
    assert set(refused.fields) == {"email"}
    assert list(User.objects.filter(email__iexact="dora@example.test").values_list("username", flat=True)) == ["dora"]
    assert AuditEvent.objects.count() == events_before  # the first was a bare row; the second left nothing


def test_a_username_another_request_is_taking_whatever_its_case_is_a_validation_error():
    agent = AgentFactory()
    events_before = AuditEvent.objects.count()

    refused = while_a_row_is_uncommitted("dora", "dora@example.test", lambda: customer_create(
        actor=agent, username="DORA", first_name="Dora", last_name="Twin", email="other@example.test",
        password="a-long-enough-password-2026",
    ))

    assert isinstance(refused, ValidationFailed), refused
    assert set(refused.fields) == {"username"}
    assert list(User.objects.filter(username__iexact="dora").values_list("username", flat=True)) == ["dora"]
    assert AuditEvent.objects.count() == events_before


def test_a_contact_change_to_an_email_another_request_is_taking_is_a_validation_error():
    bob = CustomerFactory(username="bob", email="bob@example.test", phone="+33 1 23 45 67 89")
    events_before = AuditEvent.objects.count()

    refused = while_a_row_is_uncommitted("dora", "dora@example.test", lambda: customer_update_contact(
        customer=bob, email="dora@example.test", phone="+33 6 00 00 00 00", address="",
    ))

    assert isinstance(refused, ValidationFailed), refused
    assert set(refused.fields) == {"email"}
    bob.refresh_from_db()
    assert (bob.email, bob.phone) == ("bob@example.test", "+33 1 23 45 67 89")  # nothing of the change kept
    assert AuditEvent.objects.count() == events_before
