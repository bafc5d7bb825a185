"""The customer's notifications in the app: the bell's count on every page, the notifications page
(mark one or all read, their own only) and the live stream behind them (server-sent events fed by
notify.customer.<id>), with and without NATS."""

from __future__ import annotations

import json

import nats
import pytest
from asgiref.sync import async_to_sync, sync_to_async
from django.test import AsyncClient
from django.urls import reverse

from audit.signing import announcement_headers
from audit.tests.support import read_events
from core.testing.users import TEST_PASSWORD
from notifications.models import Notification
from notifications.tests.factories import money_in

pytestmark = pytest.mark.django_db

PAGE = reverse("portal:notifications")
STREAM = reverse("portal:notifications-stream")


def signed_in(client, user):
    assert client.login(username=user.username, password=TEST_PASSWORD)
    return client


def test_the_page_lists_the_customers_own_newest_first(client, alice, bob):
    money_in(bob, payer="Alice Liddell")
    money_in(bob, payer="Carol Danvers", amount_minor=2_50)
    money_in(alice, payer="Dave Secret")

    response = signed_in(client, bob).get(PAGE)

    assert response.status_code == 200
    page = response.content.decode()
    assert page.index("Carol Danvers sent you 2.50") < page.index("Alice Liddell sent you 12.34")
    assert "Dave Secret" not in page  # alice's
    assert page.count("data-notification-id=") == 2
    assert response["Cache-Control"] == "no-store"


def test_the_bell_shows_the_unread_count_on_every_customer_page(client, bob):
    money_in(bob), money_in(bob)
    page = signed_in(client, bob).get(reverse("portal:accounts")).content.decode()
    assert 'data-testid="notification-bell"' in page and 'data-count="2"' in page
    assert 'aria-label="Notifications: 2 unread"' in page
    assert "js/notifications.js" in page

    client.post(reverse("portal:notifications-read-all"))
    page = client.get(reverse("portal:accounts")).content.decode()
    assert 'data-count="0"' in page


def test_staff_have_no_bell_and_no_notifications_page(client, agnes):
    signed_in(client, agnes)
    assert 'data-testid="notification-bell"' not in client.get("/").content.decode()
    assert client.get(PAGE).status_code == 403


def test_a_signed_out_visitor_goes_to_the_sign_in_page(client):
    response = client.get(PAGE)
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_a_customer_marks_one_read_but_never_another_customers(client, alice, bob):
    mine, theirs = money_in(alice), money_in(bob)
    signed_in(client, alice)

    assert client.post(reverse("portal:notification-read", args=[theirs.pk])).status_code == 404
    response = client.post(reverse("portal:notification-read", args=[mine.pk]))

    assert response.status_code == 302 and response["Location"] == PAGE
    assert Notification.objects.get(pk=mine.pk).read_at is not None
    assert Notification.objects.get(pk=theirs.pk).read_at is None
    page = client.get(PAGE).content.decode()
    assert f'action="/app/notifications/{mine.pk}/read/"' not in page
    assert 'data-testid="read-all"' not in page  # nothing left unread


def test_the_page_speaks_french(client, bob):
    money_in(bob)
    signed_in(client, bob)
    page = client.get(PAGE, headers={"accept-language": "fr"}).content.decode()
    assert "Alice Liddell vous a envoyé 12,34" in page and "Tout marquer comme lu" in page


# --- The live stream -------------------------------------------------------------------------------


async def open_stream(user, *, query: str = "", **headers):
    client = AsyncClient()
    await sync_to_async(client.force_login)(user)
    return await client.get(STREAM + query, headers=headers)


async def whole_body(response) -> str:
    chunks = [chunk.decode() if isinstance(chunk, bytes) else chunk async for chunk in response.streaming_content]
    return "".join(chunks)


def test_the_stream_is_for_customers_only(agnes):
    async def statuses():
        anonymous = await AsyncClient().get(STREAM)
        staff = await open_stream(agnes)
        return anonymous.status_code, staff.status_code, json.loads(staff.content)["error"]["code"]

    assert async_to_sync(statuses)() == (401, 403, "permission_denied")


def test_under_wsgi_the_stream_tells_the_browser_not_to_come_back(client, bob):
    # A WSGI thread per open page would be held for hours: 204 ends EventSource's reconnections.
    assert signed_in(client, bob).get(STREAM).status_code == 204


def test_without_nats_the_stream_sends_what_the_database_has_then_pauses(alice, bob, nats_down):
    seen = money_in(bob)
    new = money_in(bob, payer="Carol Danvers")
    money_in(alice)

    async def scenario():
        response = await open_stream(bob, query=f"?after={seen.pk}")
        assert response.status_code == 200 and response["Content-Type"] == "text/event-stream"
        return await whole_body(response)

    body = async_to_sync(scenario)()

    assert f"id: {new.pk}\n" in body and "Carol Danvers sent you" in body
    assert f"id: {seen.pk}\n" not in body  # the page has it already
    assert body.count("\nid: ") + body.startswith("id: ") == 1  # not alice's
    assert "retry: 30000" in body and '"state": "paused"' in body


def test_the_stream_forwards_the_customers_announcements_in_their_language(bob, nats_server, caplog):
    notification = money_in(bob)

    async def scenario():
        response = await open_stream(bob, query=f"?after={notification.pk}", **{"accept-language": "fr"})
        try:
            [status] = await read_events(response, count=1)
            assert status["data"]["state"] == "live"
            announcer = await nats.connect(nats_server.url)
            subject = f"notify.customer.{bob.pk}"
            payload = json.dumps({"id": notification.pk + 1, "kind": "money_in", "title": "Money received",
                                  "body": "...", "params": {"amount_minor": 700, "currency": "EUR",
                                                            "payer": "Carol Danvers"}}).encode()
            forged = json.dumps({"id": notification.pk + 2, "kind": "money_in", "params": {"payer": "Mallory"}})
            await announcer.publish(subject, forged.encode())  # unsigned: ignored
            await announcer.publish(subject, payload, headers=announcement_headers(subject, payload))
            await announcer.flush()
            [event] = await read_events(response, count=1)
            await announcer.close()
            return event
        finally:
            response.close()

    event = async_to_sync(scenario)()

    assert event["id"] == str(notification.pk + 1)
    assert event["data"]["title"] == "Argent reçu"
    assert event["data"]["body"] == "Carol Danvers vous a envoyé 7,00\u00a0EUR."
    assert event["data"]["read_at"] is None
    assert "ignoring an announcement" in caplog.text
