"""The staff audit dashboard's live tail: its server-sent event stream, fed by the consumer's
signed announcements on a real nats-server, replaying from the database after a reconnection or
without NATS."""

from __future__ import annotations

import json

import nats
from asgiref.sync import async_to_sync, sync_to_async
from django.test import override_settings

from audit.consumer import record_message
from audit.signing import SIGNATURE_HEADER, announcement_headers
from audit.tests.support import log, open_stream, read_events


async def announce(nc, subject: str, payload: bytes) -> None:
    """Publish an announcement as the consumer does: signed."""
    await nc.publish(subject, payload, headers=announcement_headers(subject, payload))


def test_the_stream_forwards_announcements_from_nats(sam, nats_server):
    async def scenario():
        response = await open_stream(sam)
        try:
            [status] = await read_events(response, count=1)
            assert status["event"] == "status" and status["data"]["state"] == "live"
            announcer = await nats.connect(nats_server.url)
            record = {"seq": 41, "id": 9001, "occurred_at": "2026-01-01T10:00:00+00:00", "actor": "alice",
                      "action": "transaction.posted", "target_type": "transaction", "target_id": "12",
                      "data": {}, "hash": "0" * 64}
            await announce(announcer, "auditlog.recorded.x", json.dumps(record).encode())
            await announcer.flush()
            [event] = await read_events(response, count=1)
            await announcer.close()
            return event
        finally:
            response.close()

    event = async_to_sync(scenario)()

    assert event["id"] == "41"
    assert event["data"]["actor"] == "alice"
    assert event["data"]["action"] == "transaction.posted"
    assert event["data"]["target_url"] == "/admin/banking/transaction/12/change/"
    assert event["data"]["occurred_display"] == "2026-01-01 11:00:00"  # Europe/Paris


def test_the_stream_ignores_announcements_the_consumer_did_not_sign(sam, nats_server, caplog):
    record = {"seq": 50, "id": 9050, "occurred_at": "2026-01-01T10:00:00+00:00", "actor": "mallory",
              "action": "transaction.posted", "target_type": "transaction", "target_id": "12", "data": {}}

    def payload(**changes) -> bytes:
        return json.dumps(record | changes).encode()

    with override_settings(FLUX_AUDIT_SIGNING_KEY="another-key-" + "x" * 40):
        other_key_headers = announcement_headers("auditlog.recorded.x", payload(seq=53))
    genuine = announcement_headers("auditlog.recorded.x", payload(seq=60, actor="alice"))
    forgeries = [
        ("auditlog.recorded.x", payload(seq=51), None),  # unsigned
        ("auditlog.recorded.x", payload(seq=52), {SIGNATURE_HEADER: "v1=" + "0" * 64}),
        ("auditlog.recorded.x", payload(seq=53), other_key_headers),  # signed with another key
        ("auditlog.recorded.x", payload(seq=54, actor="mallory"), genuine),  # another payload
        ("auditlog.recorded.y", payload(seq=60, actor="alice"), genuine),  # another subject
    ]

    async def scenario():
        response = await open_stream(sam)
        try:
            [status] = await read_events(response, count=1)
            assert status["data"]["state"] == "live"
            announcer = await nats.connect(nats_server.url)
            for subject, data, headers in forgeries:
                await announcer.publish(subject, data, headers=headers)
            await announcer.publish("auditlog.recorded.x", payload(seq=60, actor="alice"), headers=genuine)
            await announcer.flush()
            # One connection delivers in order: the genuine one comes after every forgery.
            [event] = await read_events(response, count=1)
            await announcer.close()
            return event
        finally:
            response.close()

    event = async_to_sync(scenario)()

    assert event["id"] == "60" and event["data"]["actor"] == "alice"
    refusals = [r for r in caplog.records if r.name == "flux.audit.live" and r.levelname == "ERROR"]
    assert len(refusals) == len(forgeries)
    assert "no Flux-Signature header" in refusals[0].getMessage()
    assert all("does not match" in r.getMessage() for r in refusals[1:])


def test_the_stream_forwards_real_records_as_the_consumer_announces_them(sam, nats_server):
    existing = log()

    async def scenario():
        response = await open_stream(sam, query=f"?last_event_id={existing.seq}")
        try:
            await read_events(response, count=1)  # live
            record = await sync_to_async(log)("account.frozen", actor="sam", target_type="account",
                                              target_id="3")
            announcer = await nats.connect(nats_server.url)
            await announce(announcer, f"auditlog.recorded.{record.action}", record_message(record))
            await announcer.flush()
            [event] = await read_events(response, count=1)
            await announcer.close()
            return record, event
        finally:
            response.close()

    record, event = async_to_sync(scenario)()

    assert event["id"] == str(record.seq)
    assert event["data"]["action"] == "account.frozen"
    assert event["data"]["target_url"] == "/admin/banking/account/3/change/"


def test_a_reconnection_replays_what_it_missed_from_the_database(sam, nats_server):
    seen, *missed = [log(actor=f"user{i}") for i in range(3)]

    async def scenario():
        response = await open_stream(sam, **{"Last-Event-ID": str(seen.seq)})
        try:
            return await read_events(response, count=3)
        finally:
            response.close()

    first, second, status = async_to_sync(scenario)()

    assert [first["id"], second["id"]] == [str(record.seq) for record in missed]
    assert second["data"]["actor"] == "user2"
    assert status["event"] == "status" and status["data"]["state"] == "live"


def test_the_stream_applies_the_page_filters(sam, nats_server):
    seen = log()
    log("account.opened", actor="agnes", target_type="account")
    wanted = log("transaction.posted", actor="alice")

    async def scenario():
        response = await open_stream(sam, query=f"?action=transaction&last_event_id={seen.seq}")
        try:
            replayed, _status = await read_events(response, count=2)
            announcer = await nats.connect(nats_server.url)
            for seq, action in ((wanted.seq + 1, "account.closed"), (wanted.seq + 2, "transaction.reversed")):
                record = {"seq": seq, "occurred_at": "2026-01-01T10:00:00+00:00", "actor": "sam",
                          "action": action, "target_type": "", "target_id": ""}
                await announce(announcer, f"auditlog.recorded.{action}", json.dumps(record).encode())
            await announcer.flush()
            [live] = await read_events(response, count=1)
            await announcer.close()
            return replayed, live
        finally:
            response.close()

    replayed, live = async_to_sync(scenario)()

    assert replayed["id"] == str(wanted.seq)
    assert live["data"]["action"] == "transaction.reversed"


def test_the_stream_sends_heartbeats_when_idle(sam, nats_server, settings):
    settings.FLUX_LIVE_TAIL_HEARTBEAT_SECONDS = 0.2

    async def scenario():
        response = await open_stream(sam)
        try:
            return await read_events(response, count=2)
        finally:
            response.close()

    _status, heartbeat = async_to_sync(scenario)()

    assert heartbeat == {"comment": "heartbeat"}


def test_without_nats_the_stream_replays_then_says_the_tail_is_paused(sam, nats_down):
    record = log()

    async def scenario():
        response = await open_stream(sam, query="?last_event_id=0")
        chunks = []
        async for chunk in response.streaming_content:  # the stream ends: the browser retries
            chunks.append(chunk.decode() if isinstance(chunk, bytes) else chunk)
        return "".join(chunks)

    body = async_to_sync(scenario)()

    assert body.startswith("retry: 2000\n\n")
    assert f"id: {record.seq}\n" in body
    assert "event: status\n" in body and '"state": "paused"' in body


def test_the_replayed_rows_say_what_happened_in_the_pages_language(sam, nats_server):
    seen = log(actor="alice")
    log("account.frozen", actor="sam", target_type="account", target_id="3")

    async def scenario():
        response = await open_stream(sam, **{"Last-Event-ID": str(seen.seq), "Accept-Language": "fr"})
        try:
            return await read_events(response, count=1)
        finally:
            response.close()

    [row] = async_to_sync(scenario)()

    assert row["data"]["action"] == "account.frozen"
    assert row["data"]["detail_label"] == "Compte gelé"
