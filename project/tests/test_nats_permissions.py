"""deploy/nats/nats.conf, the NATS users and permissions of compose and `make run`, on a real
nats-server: each process can do its own work as its own user and nothing else; above all only
the relay's user can publish audit events, and only the consumer's can announce stored records."""

from __future__ import annotations

import asyncio
import logging
import re
import secrets

import nats
import pytest
from asgiref.sync import async_to_sync, sync_to_async
from django.conf import settings
from django.test import AsyncClient
from django.urls import reverse

from audit.logshipping import NatsLogHandler
from audit.models import AuditLogRecord
from audit.monitoring import jetstream_status
from audit.nats import audit_stream_config, connect, ensure_stream
from audit.tests.support import assert_everything_logged_once, consumer_idle, jetstream, open_stream, read_events
from banking.services import deposit_create, transfer_create
from core.testing.nats import NatsServer, wait_until
from notifications.models import Notification

CONFIG = settings.BASE_DIR / "deploy" / "nats" / "nats.conf"
USERS = ("relay", "consumer", "web", "scheduler", "notifier")


@pytest.fixture
def passwords() -> dict[str, str]:
    return {user: secrets.token_hex(16) for user in USERS}


@pytest.fixture
def nats_server(tmp_path, settings, passwords):
    """nats-server with the committed configuration (overrides core.testing.nats's open one, so
    `pipeline` uses it too)."""
    server = NatsServer(tmp_path / "jetstream", config=CONFIG,
                        env={f"NATS_{user.upper()}_PASSWORD": password for user, password in passwords.items()})
    server.start()
    settings.NATS_URL = server.url
    settings.NATS_MONITOR_URL = server.monitor_url
    yield server
    server.stop()


class Client:
    """A connection as one of the users, made by audit.nats.connect as the processes make it,
    collecting the errors the server sends back (permission violations are reported that way)."""

    def __init__(self, settings, user: str, password: str) -> None:
        self.settings, self.user, self.password = settings, user, password
        self.errors: list[str] = []

    async def __aenter__(self) -> nats.NATS:
        async def on_error(exc: Exception) -> None:
            self.errors.append(str(exc))

        self.settings.NATS_USER, self.settings.NATS_PASSWORD = self.user, self.password
        self.nc = await connect(f"test-{self.user}", allow_reconnect=False, error_cb=on_error)
        return self.nc

    async def __aexit__(self, *exc_info) -> None:
        await self.nc.close()

    async def refused(self, what: str, subject: str) -> None:
        """Wait (5 s at most) for the server to refuse `what` ("publish" or "subscription") on `subject`."""
        expected = f'permissions violation for {what} to "{subject.lower()}"'
        await self.nc.flush()
        for _ in range(100):
            if any(expected in error.lower() for error in self.errors):
                return
            await asyncio.sleep(0.05)
        pytest.fail(f"{self.user} was not refused {what} on {subject}: {self.errors}")


def violations(server: NatsServer) -> list[tuple[str, str, str]]:
    """(user, kind, subject) of each violation in the server's log."""
    pattern = re.compile(r'"\$G/user:(\w+)" - (Publish|Subscription) Violation - Subject "([^"]+)"')
    return [match.groups() for match in pattern.finditer(server.log_path.read_text())]


def test_each_user_does_its_own_work_and_nothing_else(nats_server, settings, passwords):
    async def scenario():
        async with Client(settings, "relay", passwords["relay"]) as nc:
            js = nc.jetstream(timeout=2)
            await ensure_stream(js, audit_stream_config())
            ack = await js.publish("audit.x", b"{}")
            assert ack.stream == settings.FLUX_AUDIT_STREAM

        web = Client(settings, "web", passwords["web"])
        async with web as nc:
            await nc.publish("audit.x.y", b"{}")
            await web.refused("publish", "audit.x.y")
            await nc.publish(f"{settings.FLUX_AUDIT_RECORDED_SUBJECT}.x", b"{}")
            await web.refused("publish", f"{settings.FLUX_AUDIT_RECORDED_SUBJECT}.x")
            await nc.subscribe("audit.>")
            await web.refused("subscription", "audit.>")
            await nc.subscribe("_INBOX.>")  # the other users' replies, e.g. the consumer's deliveries
            await web.refused("subscription", "_INBOX.>")
            # What it may do: the dashboard's stream figures.
            info = await nc.jetstream(timeout=2).stream_info(settings.FLUX_AUDIT_STREAM)

        consumer = Client(settings, "consumer", passwords["consumer"])
        async with consumer as nc:
            await nc.publish("audit.x.y", b"{}")
            await consumer.refused("publish", "audit.x.y")
            await nc.publish("logs.web.error", b"{}")  # only its own service's logs
            await consumer.refused("publish", "logs.web.error")

        for user, password in (("relay", "not-the-password"), ("", "")):
            settings.NATS_USER, settings.NATS_PASSWORD = user, password
            with pytest.raises(nats.errors.Error, match="Authorization Violation"):
                await connect("test-intruder", allow_reconnect=False)
        return info.state.messages

    assert async_to_sync(scenario)() == 1  # the relay's message only
    assert sorted(violations(nats_server)) == sorted([
        ("web", "Publish", "audit.x.y"), ("web", "Publish", f"{settings.FLUX_AUDIT_RECORDED_SUBJECT}.x"),
        ("web", "Subscription", "audit.>"), ("web", "Subscription", "_INBOX.>"),
        ("consumer", "Publish", "audit.x.y"), ("consumer", "Publish", "logs.web.error"),
    ])


def test_a_refusal_is_logged_as_an_error_not_taken_for_an_outage(nats_server, settings, passwords, caplog):
    settings.NATS_USER, settings.NATS_PASSWORD = "web", passwords["web"]

    async def scenario():
        nc = await connect("test-web")  # the processes' own error callback
        try:
            await nc.publish("audit.x.y", b"{}")
            await nc.flush()
            for _ in range(100):
                if any(record.levelname == "ERROR" for record in caplog.records):
                    return
                await asyncio.sleep(0.05)
        finally:
            await nc.close()

    async_to_sync(scenario)()

    [record] = [record for record in caplog.records if record.levelname == "ERROR"]
    assert record.getMessage() == ("NATS refused this process (user 'web'): "
                                   'nats: permissions violation for publish to "audit.x.y"')


def test_every_process_publishes_its_own_figures_and_only_web_reads_them(nats_server, settings, passwords):
    """metrics.<service>.<instance> (audit/performance.py): each user publishes under its own
    service only; the web user reads them all for the performance page."""

    async def scenario() -> list[str]:
        received: list[str] = []
        async with Client(settings, "web", passwords["web"]) as web:
            async def note(message) -> None:
                received.append(message.subject)

            await web.subscribe("metrics.>", cb=note)
            await web.flush()
            for user in USERS:
                async with Client(settings, user, passwords[user]) as nc:
                    await nc.publish(f"metrics.{user}.host-1", b"{}")
                    await nc.flush()
            scheduler = Client(settings, "scheduler", passwords["scheduler"])
            async with scheduler as nc:
                await nc.publish("metrics.web.host-1", b"{}")  # another service's subject
                await scheduler.refused("publish", "metrics.web.host-1")
                await nc.subscribe("metrics.>")
                await scheduler.refused("subscription", "metrics.>")
            for _ in range(100):
                if len(received) >= len(USERS):
                    break
                await asyncio.sleep(0.05)
        return sorted(received)

    assert async_to_sync(scenario)() == sorted(f"metrics.{user}.host-1" for user in USERS)
    assert sorted(violations(nats_server)) == [("scheduler", "Publish", "metrics.web.host-1"),
                                               ("scheduler", "Subscription", "metrics.>")]


def test_every_user_ships_its_logs(nats_server, settings, passwords):
    for user in USERS:
        settings.NATS_USER, settings.NATS_PASSWORD = user, passwords[user]
        handler = NatsLogHandler(service=user)
        handler.handle(logging.LogRecord("flux.test", logging.WARNING, __file__, 1, f"from {user}", (), None))
        wait_until(lambda handler=handler: handler.shipped == 1 or handler.dropped, timeout=10)
        assert (handler.shipped, handler.dropped) == (1, 0), user

    assert violations(nats_server) == []


@pytest.mark.django_db(transaction=True)
def test_the_pipeline_and_the_dashboards_work_each_as_its_own_user(
        agnes, bob_account, sam, nats_server, pipeline, settings, passwords):
    pipeline("audit_relay", NATS_USER="relay", NATS_PASSWORD=passwords["relay"])
    pipeline("audit_consume", NATS_USER="consumer", NATS_PASSWORD=passwords["consumer"])
    deposit_create(initiator=agnes, account_id=bob_account.pk, amount=100)
    assert_everything_logged_once()
    last_seq = AuditLogRecord.objects.latest("seq").seq
    web = Client(settings, "web", passwords["web"])  # this test process plays the web
    settings.NATS_USER, settings.NATS_PASSWORD = "web", passwords["web"]

    async def scenario():
        response = await open_stream(sam, query=f"?last_event_id={last_seq}")
        try:
            [status] = await read_events(response, count=1)
            assert status["data"]["state"] == "live"
            async with web as nc:  # a forgery by the web's user: refused by the server
                await nc.publish("audit.transaction.posted", b'{"event_id": 999999}')
                await web.refused("publish", "audit.transaction.posted")
            await sync_to_async(deposit_create)(initiator=agnes, account_id=bob_account.pk, amount=200)
            # Relay -> JetStream -> consumer -> signed announcement -> the web's live tail.
            [event] = await read_events(response, count=1, timeout=20)
        finally:
            response.close()
        return event

    event = async_to_sync(scenario)()

    assert event["data"]["action"] == "transaction.posted" and event["data"]["actor"] == "agnes"
    assert_everything_logged_once()
    web_login = {"user": "web", "password": passwords["web"], "inbox_prefix": "_INBOX.web"}
    wait_until(lambda: consumer_idle(nats_server.url, **web_login), timeout=20, interval=0.2)
    assert not AuditLogRecord.objects.filter(event_id=999999).exists()
    # The NATS dashboard, as the web's user: stream, consumer, and its own shipped log.
    handler = NatsLogHandler(service="web")
    handler.handle(logging.LogRecord("flux.test", logging.WARNING, __file__, 1, "dashboard check", (), None))
    wait_until(lambda: handler.shipped == 1, timeout=10)
    status = async_to_sync(jetstream_status)()
    assert status["audit_stream"]["messages"] == AuditLogRecord.objects.count()
    assert status["audit_consumer"]["num_pending"] == 0
    assert [entry["message"] for entry in status["recent_logs"]] == ["dashboard check"]
    # Every process had every permission it needed: the only violation is the forgery.
    assert violations(nats_server) == [("web", "Publish", "audit.transaction.posted")]


@pytest.mark.django_db(transaction=True)
def test_the_notifier_and_a_customers_live_stream_work_each_as_its_own_user(
        alice, bob, alice_account, bob_account, nats_server, pipeline, settings, passwords):
    pipeline("audit_relay", NATS_USER="relay", NATS_PASSWORD=passwords["relay"])
    pipeline("run_notifier", NATS_USER="notifier", NATS_PASSWORD=passwords["notifier"])
    notifier_login = {"user": "notifier", "password": passwords["notifier"], "inbox_prefix": "_INBOX.notifier"}

    async def subscribed(js):
        try:
            return bool(await js.consumer_info(settings.FLUX_AUDIT_STREAM, settings.FLUX_NOTIFIER_CONSUMER))
        except nats.js.errors.NotFoundError:
            return False

    wait_until(lambda: jetstream(nats_server.url, subscribed, **notifier_login), timeout=30, interval=0.2)
    settings.NATS_USER, settings.NATS_PASSWORD = "web", passwords["web"]  # this test process plays the web
    web, notifier = Client(settings, "web", passwords["web"]), Client(settings, "notifier", passwords["notifier"])

    async def scenario():
        client = AsyncClient()
        await sync_to_async(client.force_login)(bob)
        response = await client.get(reverse("portal:notifications-stream"))
        try:
            [status] = await read_events(response, count=1)
            assert status["data"]["state"] == "live"
            async with web as nc:  # the web may listen to a customer's notifications, never announce one
                await nc.publish(f"notify.customer.{bob.pk}", b"{}")
                await web.refused("publish", f"notify.customer.{bob.pk}")
            async with notifier as nc:  # nor may the notifier write to the audit stream
                await nc.publish("audit.x.y", b"{}")
                await notifier.refused("publish", "audit.x.y")
            await sync_to_async(transfer_create)(initiator=alice, source_account_id=alice_account.pk,
                                                 destination_iban=bob_account.iban, amount=4_00)
            # Relay -> JetStream -> notifier -> notify.customer.<bob> -> bob's stream.
            [event] = await read_events(response, count=1, timeout=20)
        finally:
            response.close()
        return event

    event = async_to_sync(scenario)()

    assert event["data"]["kind"] == "money_in" and "Alice Liddell" in event["data"]["body"]
    assert Notification.objects.filter(customer=bob).count() == 1
    assert sorted(violations(nats_server)) == [("notifier", "Publish", "audit.x.y"),
                                               ("web", "Publish", f"notify.customer.{bob.pk}")]
