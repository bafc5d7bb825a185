"""Publishing on NATS is not enough to write the audit log (security issue 10, finding 2): with the
real relay and consumer processes, messages published straight on the AUDIT stream - unsigned,
badly signed, signed with another key, a genuine signature on another payload or under another
id - are refused and logged by the consumer, never stored, and the chain still verifies. A forgery
that takes the next real event's id first does not make the real event be dropped."""

import json

import pytest
from django.conf import settings
from django.test import override_settings

from audit.models import AuditEvent, AuditLogRecord
from audit.nats import audit_message
from audit.signing import MSG_ID_HEADER, SIGNATURE_HEADER, event_headers
from audit.tests.support import assert_everything_logged_once, consumer_idle, event, event_ids, jetstream
from banking.services import deposit_create
from core.testing.nats import wait_until

pytestmark = pytest.mark.django_db(transaction=True)

OTHER_KEY = "a-key-that-is-not-flux-s-" + "z" * 40


def payload(event_id: int, **changes) -> bytes:
    return json.dumps(event(event_id, actor_username="mallory", **changes), sort_keys=True,
                      separators=(",", ":")).encode()


def test_forged_audit_messages_are_refused_logged_and_never_take_a_real_events_id(
        agnes, bob_account, pipeline, nats_server):
    pipeline("audit_relay")
    consumer = pipeline("audit_consume")
    deposit_create(initiator=agnes, account_id=bob_account.pk, amount=100)
    assert_everything_logged_once()
    real = AuditEvent.objects.order_by("pk").last()
    real_subject, real_payload, real_headers = audit_message(real)
    # The ids the next real events will get (the sequence allocates them in order here).
    next_ids = [real.pk + n for n in (1, 2, 3)]
    with override_settings(FLUX_AUDIT_SIGNING_KEY=OTHER_KEY):
        other_key_headers = event_headers("audit.forged.other-key", payload(9003, action="forged.other-key"), 9003)
        squatter_headers = {event_id: event_headers("audit.transaction.posted", payload(event_id), event_id)
                            for event_id in next_ids}
    genuine_for_9004 = event_headers("audit.forged.other-payload", payload(9004, action="forged.other-payload"), 9004)
    forgeries = [
        # subject, payload, headers, the reason the consumer gives
        ("audit.forged.unsigned", payload(9001, action="forged.unsigned"), None, "no Flux-Signature header"),
        ("audit.forged.bad", payload(9002, action="forged.bad"),
         {MSG_ID_HEADER: "9002", SIGNATURE_HEADER: "v1=" + "ab" * 32}, "the signature does not match"),
        ("audit.forged.other-key", payload(9003, action="forged.other-key"), other_key_headers,
         "the signature does not match"),
        ("audit.forged.other-payload", payload(9004, action="forged.other-payload", data={"amount": "1e9"}),
         genuine_for_9004, "the signature does not match"),
        # A real, signed event replayed under another Nats-Msg-Id (JetStream does not drop it).
        (real_subject, real_payload, {**real_headers, MSG_ID_HEADER: f"{real.pk}:replayed"},
         "the signature does not match"),
    ]
    # The next real ids taken first: unsigned with the id as the old relay sent it, and signed
    # with another key under that key's message id.
    for event_id in next_ids:
        forgeries.append(("audit.transaction.posted", payload(event_id), {MSG_ID_HEADER: str(event_id)},
                          "no Flux-Signature header"))
        forgeries.append(("audit.transaction.posted", payload(event_id), squatter_headers[event_id],
                          "the signature does not match"))

    async def forge(js):
        before = (await js.stream_info(settings.FLUX_AUDIT_STREAM)).state.messages
        for subject, data, headers, _reason in forgeries:
            ack = await js.publish(subject, data, headers=headers)
            assert not ack.duplicate
        return before, (await js.stream_info(settings.FLUX_AUDIT_STREAM)).state.messages

    before, after = jetstream(nats_server.url, forge)
    assert after == before + len(forgeries)  # all in the stream: the consumer has to refuse them
    for cents in (201, 202, 203):
        deposit_create(initiator=agnes, account_id=bob_account.pk, amount=cents)
    new_ids = sorted(AuditEvent.objects.filter(pk__gt=real.pk).values_list("pk", flat=True))
    assert new_ids == next_ids, "the real events did not get the ids the forgeries took"

    assert_everything_logged_once()  # the three real events are stored, nothing else; the chain verifies
    wait_until(lambda: consumer_idle(nats_server.url), timeout=20, interval=0.2,
               message="the consumer did not take every message")  # refused ones terminated, not pending
    assert not AuditLogRecord.objects.filter(actor_username="mallory").exists()
    assert not AuditLogRecord.objects.filter(action__startswith="forged.").exists()
    output = consumer.stop()
    assert f"{len(event_ids())} stored, 0 duplicates, {len(forgeries)} refused" in output
    refused = "ERROR flux.audit.consumer [-] refused an audit message"
    refusals = [line for line in output.splitlines() if refused in line]
    assert len(refusals) == len(forgeries)
    for subject, _data, _headers, reason in forgeries:
        assert any(f"on {subject}: {reason}" in line for line in refusals), (subject, reason)
