"""What each audit event tells which customer, written through notifications_store from the events
the banking services really record; each (event, customer) once however often it comes."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from django.utils.translation import override

from banking.services import (
    account_freeze,
    account_unfreeze,
    pending_expire,
    transaction_approve,
    transaction_reject,
    transfer_create,
)
from core.errors import NotFound
from notifications.messages import notification_text
from notifications.models import Notification, NotificationKind
from notifications.services import notification_mark_read, notifications_mark_all_read, notifications_store
from notifications.tests.support import events_after, last_event_id

pytestmark = pytest.mark.django_db


def text(notification: Notification, language: str = "en"):
    with override(language):
        return notification_text(notification.kind, notification.params)


def test_money_in_reaches_the_payee_naming_the_payer_and_nobody_else(alice, bob, alice_account, bob_account):
    start = last_event_id()
    txn = transfer_create(initiator=alice, source_account_id=alice_account.pk, destination_iban=bob_account.iban,
                          amount=12_34, reference="Dinner")

    written = notifications_store(events=events_after(start))

    assert [(n.customer, n.kind, n.transaction_id) for n in written] == [(bob, NotificationKind.MONEY_IN, txn.pk)]
    assert text(written[0]).title == "Money received"
    assert text(written[0]).body == "Alice Liddell sent you 12.34\u00a0EUR."
    assert text(written[0], "fr").body == "Alice Liddell vous a envoyé 12,34\u00a0EUR."
    assert not Notification.objects.filter(customer=alice).exists()


def test_the_same_events_again_write_nothing_twice(alice, bob, alice_account, bob_account):
    start = last_event_id()
    transfer_create(initiator=alice, source_account_id=alice_account.pk, destination_iban=bob_account.iban,
                    amount=5_00)
    events = events_after(start)
    assert len(notifications_store(events=events)) == 1

    assert notifications_store(events=events) == []
    assert notifications_store(events=events + events) == []
    assert Notification.objects.count() == 1


def test_a_transfer_between_ones_own_accounts_tells_nobody(open_account, alice, alice_account):
    savings = open_account(alice)
    start = last_event_id()
    transfer_create(initiator=alice, source_account_id=alice_account.pk, destination_iban=savings.iban, amount=1_00)
    assert notifications_store(events=events_after(start)) == []


def test_an_approved_transfer_tells_the_payer_it_was_approved_and_the_payee_that_money_came(
        pending_transfer, alice, bob, sam):
    start = last_event_id()
    transaction_approve(approver=sam, transaction_id=pending_transfer["id"])

    written = {n.customer.username: n for n in notifications_store(events=events_after(start))}

    assert set(written) == {"alice", "bob"}
    assert written["alice"].kind == NotificationKind.TRANSFER_APPROVED
    assert text(written["alice"]).body == (
        "Your transfer of 12,000.00\u00a0EUR to Bob Builder was approved and has been made.")
    assert written["bob"].kind == NotificationKind.MONEY_IN
    assert "Alice Liddell" in text(written["bob"]).body


def test_a_rejected_transfer_tells_the_payer_only(pending_transfer, alice, sam):
    start = last_event_id()
    transaction_reject(approver=sam, transaction_id=pending_transfer["id"], reason="Unusual amount")

    written = notifications_store(events=events_after(start))

    assert [(n.customer, n.kind) for n in written] == [(alice, NotificationKind.TRANSFER_REJECTED)]
    assert "was not approved" in text(written[0]).body


def test_an_expired_transfer_tells_the_payer(pending_transfer, alice):
    start = last_event_id()
    assert pending_expire(now=timezone.now() + timedelta(days=30)) == 1

    written = notifications_store(events=events_after(start))

    assert [(n.customer, n.kind) for n in written] == [(alice, NotificationKind.TRANSFER_EXPIRED)]


def test_freezing_and_unfreezing_tell_the_holder_with_the_reason(agnes, bob, bob_account):
    start = last_event_id()
    account_freeze(actor=agnes, account_id=bob_account.pk, reason="Card reported stolen")
    account_unfreeze(actor=agnes, account_id=bob_account.pk, reason="Card found")

    written = notifications_store(events=events_after(start))

    assert [(n.customer, n.kind) for n in written] == [
        (bob, NotificationKind.ACCOUNT_FROZEN), (bob, NotificationKind.ACCOUNT_UNFROZEN)]
    assert "Reason: Card reported stolen" in text(written[0]).body
    assert text(written[1], "fr").title == "Compte de nouveau actif"


def test_events_for_nobody_write_nothing(agnes, alice):
    start = last_event_id()
    with pytest.raises(Exception):  # noqa: B017 - any refusal: it records nothing
        transfer_create(initiator=alice, source_account_id=0, destination_iban="x", amount=1)
    assert notifications_store(events=events_after(start) + [
        {"event_id": 10**9, "action": "auth.login", "target_type": "user", "target_id": str(alice.pk)},
        {"event_id": 10**9 + 1, "action": "transaction.posted", "target_type": "transaction", "target_id": "999999"},
    ]) == []


def test_a_customer_marks_their_own_read_and_no_one_elses(alice, bob, alice_account, bob_account):
    start = last_event_id()
    transfer_create(initiator=alice, source_account_id=alice_account.pk, destination_iban=bob_account.iban,
                    amount=1_00)
    transfer_create(initiator=bob, source_account_id=bob_account.pk, destination_iban=alice_account.iban,
                    amount=1_00)
    for_bob, for_alice = notifications_store(events=events_after(start))

    with pytest.raises(NotFound):
        notification_mark_read(customer=alice, notification_id=for_bob.pk)
    for_bob.refresh_from_db()
    assert for_bob.read_at is None

    first = notification_mark_read(customer=bob, notification_id=for_bob.pk).read_at
    assert first is not None
    assert notification_mark_read(customer=bob, notification_id=for_bob.pk).read_at == first
    assert notifications_mark_all_read(customer=alice) == 1
    assert notifications_mark_all_read(customer=alice) == 0


def test_the_events_parties_are_read_in_one_query_whatever_the_notifications(
        pending_transfer, alice, bob, alice_account, bob_account, sam, django_assert_num_queries):
    """Money in, and the payer told of the approval: each written from the one read of the
    transactions with their accounts and holders (nothing left to load one by one)."""
    from notifications.events import notifications_for_events

    start = last_event_id()
    transfer_create(initiator=alice, source_account_id=alice_account.pk, destination_iban=bob_account.iban,
                    amount=5_00, reference="Lunch")
    transaction_approve(approver=sam, transaction_id=pending_transfer["id"])
    events = events_after(start)

    with django_assert_num_queries(1):
        made = notifications_for_events(events)
        texts = [(n.customer_id, text(n).body) for n in made]

    assert texts == [
        (bob.pk, "Alice Liddell sent you 5.00\u00a0EUR."),
        (bob.pk, "Alice Liddell sent you 12,000.00\u00a0EUR."),
        (alice.pk, "Your transfer of 12,000.00\u00a0EUR to Bob Builder was approved and has been made."),
    ]
