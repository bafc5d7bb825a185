"""The ledger's tables keep their history (entries and audit events are append-only, to SQL and the
ORM alike), and the test fixtures and factories build state only through the ledger."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction

from audit.models import AuditEvent
from banking.models import Entry, TransactionStatus
from banking.tests.factories import AccountFactory, fresh, fund
from banking.tests.ledger import assert_balanced
from identity.tests.factories import AgentFactory, CustomerFactory

# --- Append-only tables -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE banking_entry SET amount = amount + 1",
        "UPDATE banking_entry SET counterparty = 'someone else'",
        "DELETE FROM banking_entry",
        "UPDATE audit_auditevent SET action = 'nothing.happened'",
        "DELETE FROM audit_auditevent",
    ],
)
def test_entries_and_audit_events_are_append_only(alice_account, snapshot, statement):
    before = snapshot()
    assert before["entries"] and before["audit_events"]

    with pytest.raises(DatabaseError, match="append-only"):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement)

    assert snapshot() == before


def test_the_orm_cannot_change_an_entry_or_an_audit_event(alice_account, snapshot):
    before = snapshot()
    entry = Entry.objects.filter(account=alice_account).first()
    event = AuditEvent.objects.first()

    for attempt in (
        lambda: Entry.objects.filter(pk=entry.pk).update(amount=1),
        entry.delete,
        lambda: AuditEvent.objects.filter(pk=event.pk).update(target_id="x"),
        event.delete,
    ):
        with pytest.raises(DatabaseError), transaction.atomic():
            attempt()

    assert snapshot() == before


# --- Fixtures and factories agree with the ledger ---------------------------------------------


def test_fixture_accounts_are_funded_through_the_ledger(alice_account, bob_account, vault, clearing):
    assert (fresh(alice_account).balance, fresh(bob_account).balance) == (1_000_00, 500_00)
    assert fresh(vault).balance == -1_500_00 and fresh(clearing).balance == 0
    for account in (alice_account, bob_account, vault, clearing):
        assert_balanced(account)


def test_funding_above_the_cash_threshold_is_approved_by_another_person(agnes, sam, vault):
    account = AccountFactory(opened_by=agnes)
    deposit = fund(account, 8_000_00, agent=agnes, approver=sam)

    assert account.balance == 8_000_00
    assert deposit.status == TransactionStatus.POSTED and deposit.decided_by == sam


def test_factories_make_people_with_roles(db):
    assert CustomerFactory().is_customer
    assert AgentFactory().is_bank_staff
