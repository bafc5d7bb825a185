"""The notifier as a real process (manage.py run_notifier) with the relay, against a real
nats-server and PostgreSQL: money in reaches the payee once, naming the payer, and nobody else;
events made while the notifier is down are notified once when it is back; killed right after
writing, it doubles nothing; forgeries on audit.> are refused; each notification is announced on
notify.customer.<id>."""

from __future__ import annotations

import asyncio
import json
import threading

import nats
import pytest
from django.db import connection

from audit.models import AuditEvent
from audit.nats import event_payload
from audit.tests.support import jetstream
from banking.services import account_freeze, transaction_approve, transfer_create
from core.testing.nats import wait_until
from notifications.models import Notification, NotificationKind
from notifications.tests.support import notifier_idle, start_notifier

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def postgresql_only(db):
    if connection.vendor != "postgresql":
        pytest.skip("the notifier's tests run on PostgreSQL (set DATABASE_URL)")


def pay(payer, source, destination, amount: int, reference: str = ""):
    return transfer_create(initiator=payer, source_account_id=source.pk, destination_iban=destination.iban,
                           amount=amount, reference=reference)


def kinds_by_customer() -> list[tuple[str, str, int | None]]:
    return sorted(Notification.objects.values_list("customer__username", "kind", "transaction_id"),
                  key=lambda row: (row[0], row[1], row[2] or 0))


class CollectingSubscriber:
    """A core NATS subscriber on `subject`, in a thread with its own event loop (as the web's stream
    is a client of its own): start(), then stop() returns what it heard."""

    def __init__(self, url: str, subject: str) -> None:
        self.url, self.subject = url, subject
        self.messages: list[dict] = []
        self.ready = threading.Event()
        self.loop: asyncio.AbstractEventLoop | None = None
        self.done: asyncio.Event | None = None
        self.thread = threading.Thread(target=lambda: asyncio.run(self._run()), daemon=True)

    async def _run(self) -> None:
        self.loop, self.done = asyncio.get_running_loop(), asyncio.Event()
        nc = await nats.connect(self.url)

        async def received(message) -> None:
            self.messages.append(json.loads(message.data))

        await nc.subscribe(self.subject, cb=received)
        await nc.flush()
        self.ready.set()
        await self.done.wait()
        await nc.close()

    def start(self) -> CollectingSubscriber:
        self.thread.start()
        assert self.ready.wait(10), "could not subscribe"
        return self

    def stop(self) -> list[dict]:
        self.loop.call_soon_threadsafe(self.done.set)
        self.thread.join(10)
        return self.messages


def test_money_in_reaches_the_payee_once_naming_the_payer_and_is_announced_to_the_payee_only(
        pipeline, nats_server, alice, bob, alice_account, bob_account):
    pipeline("audit_relay")
    notifier = start_notifier(pipeline, nats_server)
    listener_bob = CollectingSubscriber(nats_server.url, f"notify.customer.{bob.pk}").start()
    listener_alice = CollectingSubscriber(nats_server.url, f"notify.customer.{alice.pk}").start()

    txn = pay(alice, alice_account, bob_account, 12_34, "Dinner")

    wait_until(lambda: Notification.objects.exists(), timeout=20, message="no notification was written")
    wait_until(lambda: notifier_idle(nats_server.url), timeout=20)
    assert kinds_by_customer() == [("bob", NotificationKind.MONEY_IN, txn.pk)]
    notification = Notification.objects.get()
    assert notification.params["payer"] == "Alice Liddell" and notification.params["amount_minor"] == 12_34

    wait_until(lambda: listener_bob.messages, timeout=10, message="bob's app heard nothing")
    announced = listener_bob.stop()
    assert [(m["id"], m["kind"], m["title"], m["body"]) for m in announced] == [
        (notification.pk, "money_in", "Money received", "Alice Liddell sent you 12.34\u00a0EUR.")]
    assert listener_alice.stop() == []
    assert "1 notifications written, 0 refused" in notifier.stop()


def test_events_made_while_the_notifier_is_down_are_notified_once_when_it_is_back(
        pipeline, nats_server, alice, bob, agnes, sam, alice_account, bob_account, rich_account):
    pipeline("audit_relay")
    first = start_notifier(pipeline, nats_server)
    before_down = pay(alice, alice_account, bob_account, 1_00)
    wait_until(lambda: Notification.objects.count() == 1, timeout=20)
    first.kill()

    # While it is down: money both ways, a transfer approved after waiting, an account frozen.
    to_bob = pay(alice, alice_account, bob_account, 2_00)
    to_alice = pay(bob, bob_account, alice_account, 3_00)
    pending = pay(alice, rich_account, bob_account, 12_000_00)
    transaction_approve(approver=sam, transaction_id=pending.pk)
    account_freeze(actor=agnes, account_id=bob_account.pk, reason="Card reported stolen")

    second = start_notifier(pipeline, nats_server)
    wait_until(lambda: Notification.objects.count() >= 6, timeout=30, message="the notifier did not catch up")
    wait_until(lambda: notifier_idle(nats_server.url), timeout=20)
    # Killed again right after writing (its acks perhaps not sent), then started again: nothing doubled.
    second.kill()
    third = start_notifier(pipeline, nats_server)
    wait_until(lambda: notifier_idle(nats_server.url), timeout=20)

    assert kinds_by_customer() == sorted([
        ("bob", NotificationKind.MONEY_IN, before_down.pk),
        ("bob", NotificationKind.MONEY_IN, to_bob.pk),
        ("alice", NotificationKind.MONEY_IN, to_alice.pk),
        ("alice", NotificationKind.TRANSFER_APPROVED, pending.pk),
        ("bob", NotificationKind.MONEY_IN, pending.pk),
        ("bob", NotificationKind.ACCOUNT_FROZEN, None),
    ], key=lambda row: (row[0], row[1], row[2] or 0))
    assert "0 notifications written" in third.stop()


def test_forged_audit_messages_are_refused_and_notify_nobody(pipeline, nats_server, alice, bob, alice_account,
                                                           bob_account):
    notifier = start_notifier(pipeline, nats_server)
    # A real transfer, whose event the relay never publishes (it is not running): forgers copy it.
    txn = pay(alice, alice_account, bob_account, 50_00)
    event = AuditEvent.objects.get(action="transaction.posted", target_id=str(txn.pk))
    payload = event_payload(event)

    async def forge(js):
        await js.publish("audit.transaction.posted", payload)  # unsigned
        await js.publish("audit.transaction.posted", payload, headers={
            "Nats-Msg-Id": f"{event.pk}:forged", "Flux-Signature": "v1=" + "0" * 64})

    jetstream(nats_server.url, forge)
    wait_until(lambda: notifier_idle(nats_server.url), timeout=20)
    output = notifier.stop()
    assert "0 notifications written, 2 refused" in output
    assert "refused an audit message on audit.transaction.posted" in output
    assert not Notification.objects.exists()
