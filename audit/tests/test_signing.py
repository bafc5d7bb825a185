"""Audit message signatures (audit/signing.py) and the consumer's check of a message
(audit.consumer.authentic_event), without NATS: what is accepted and what is refused, and why."""

from __future__ import annotations

import json
import os
import secrets
import string
import subprocess
import sys

import pytest
from django.conf import settings
from django.test import override_settings

from audit.consumer import authentic_event
from audit.signing import (
    MSG_ID_HEADER,
    SIGNATURE_HEADER,
    Refused,
    announcement_headers,
    event_headers,
    message_id,
    signature,
    signing_keys,
    verify,
)
from audit.tests.support import event

SUBJECT = "audit.transaction.posted"
OTHER_KEY = "another-signing-key-" + "k" * 40


def signed(event_id: int = 5, **overrides) -> tuple[str, bytes, dict[str, str]]:
    """A message as the relay publishes it (the payload in event_payload's form)."""
    payload = json.dumps(event(event_id, **overrides), sort_keys=True, separators=(",", ":")).encode()
    return SUBJECT, payload, event_headers(SUBJECT, payload, event_id)


def test_a_message_from_the_relay_is_accepted():
    subject, payload, headers = signed()

    assert headers[SIGNATURE_HEADER].startswith("v1=") and len(headers[SIGNATURE_HEADER]) == 3 + 64
    assert authentic_event(subject, payload, headers) == json.loads(payload)


def test_the_message_id_is_the_event_id_with_a_keyed_tag():
    first, again = message_id(5), message_id(5)
    with override_settings(FLUX_AUDIT_SIGNING_KEY=OTHER_KEY):
        with_another_key = message_id(5)

    assert first == again  # a republished event is the same message for JetStream
    assert first.startswith("5:") and len(first) == 2 + 32
    assert with_another_key != first and message_id(6) != first  # not computable without the key


@pytest.mark.parametrize(("forge", "reason"), [
    (lambda s, p, h: (s, p, {}), "no Flux-Signature header"),
    (lambda s, p, h: (s, p, None), "no Flux-Signature header"),
    (lambda s, p, h: (s, p, {**h, SIGNATURE_HEADER: "v1=" + "0" * 64}), "does not match"),
    (lambda s, p, h: (s, p, {**h, SIGNATURE_HEADER: "v2=" + h[SIGNATURE_HEADER][3:]}), "unknown"),
    (lambda s, p, h: (s, p, {**h, SIGNATURE_HEADER: "v1=é"}), "does not match"),
    (lambda s, p, h: (s, p, {SIGNATURE_HEADER: h[SIGNATURE_HEADER]}), "no Nats-Msg-Id header"),
    # A genuine signature on another payload, under another id or another subject.
    (lambda s, p, h: (s, p.replace(b'"agnes"', b'"mallory"'), h), "does not match"),
    (lambda s, p, h: (s, p, {**h, MSG_ID_HEADER: message_id(6)}), "does not match"),
    (lambda s, p, h: ("audit.account.frozen", p, h), "does not match"),
])
def test_a_forged_or_altered_message_is_refused_before_it_is_read(forge, reason):
    subject, payload, headers = forge(*signed())

    with pytest.raises(Refused, match=reason):
        authentic_event(subject, payload, headers)


def test_a_signature_by_another_key_is_refused():
    with override_settings(FLUX_AUDIT_SIGNING_KEY=OTHER_KEY):
        subject, payload, headers = signed()

    with pytest.raises(Refused, match="does not match"):
        authentic_event(subject, payload, headers)


def test_a_signed_message_must_be_the_event_its_id_names_and_match_its_subject():
    """Checks for what only a holder of the key could send (a bug, or a stolen key used carelessly)."""
    payload = json.dumps(event(5)).encode()
    plain_id = {MSG_ID_HEADER: "5", SIGNATURE_HEADER: signature(SUBJECT, payload, "5")}
    other_event = {MSG_ID_HEADER: message_id(6), SIGNATURE_HEADER: signature(SUBJECT, payload, message_id(6))}
    wrong_subject = event_headers("audit.account.frozen", payload, 5)
    not_json = event_headers(SUBJECT, b"{not json", 5)

    with pytest.raises(Refused, match="not the one of event 5"):
        authentic_event(SUBJECT, payload, plain_id)
    with pytest.raises(Refused, match="not the one of event 5"):
        authentic_event(SUBJECT, payload, other_event)
    with pytest.raises(Refused, match="subject is not the one of action"):
        authentic_event("audit.account.frozen", payload, wrong_subject)
    with pytest.raises(Refused, match="malformed"):
        authentic_event(SUBJECT, b"{not json", not_json)


def test_announcements_are_signed_without_an_id_and_bound_to_their_subject():
    headers = announcement_headers("auditlog.recorded.x", b"{}")

    verify("auditlog.recorded.x", b"{}", headers, msg_id_required=False)
    with pytest.raises(Refused, match="does not match"):
        verify("auditlog.recorded.y", b"{}", headers, msg_id_required=False)
    with pytest.raises(Refused, match="no Nats-Msg-Id"):  # never mistaken for an audit event
        verify("auditlog.recorded.x", b"{}", headers, msg_id_required=True)


def test_the_default_key_is_derived_from_secret_key_and_is_not_secret_key():
    key = signing_keys()[0]
    with override_settings(SECRET_KEY=settings.SECRET_KEY + "-rotated"):
        rotated = signing_keys()[0]

    assert not settings.FLUX_AUDIT_SIGNING_KEY
    assert len(key) == 32 and key != settings.SECRET_KEY.encode()[:32]
    assert settings.SECRET_KEY.encode() not in key
    assert rotated != key


def test_a_set_key_is_used_as_it_is():
    with override_settings(FLUX_AUDIT_SIGNING_KEY=OTHER_KEY):
        assert signing_keys() == [OTHER_KEY.encode()]


def test_without_any_key_nothing_is_signed():
    from django.core.exceptions import ImproperlyConfigured

    with override_settings(SECRET_KEY="", FLUX_AUDIT_SIGNING_KEY=""), pytest.raises(ImproperlyConfigured):
        signed()


def test_signatures_by_a_fallback_key_are_still_accepted_during_a_rotation():
    with override_settings(FLUX_AUDIT_SIGNING_KEY=OTHER_KEY):
        in_flight = signed()
    old_secret = settings.SECRET_KEY
    by_old_secret = signed()

    with override_settings(FLUX_AUDIT_SIGNING_KEY="new-signing-key-" + "n" * 40,
                           FLUX_AUDIT_SIGNING_KEY_FALLBACKS=[OTHER_KEY]):
        assert authentic_event(*in_flight)["event_id"] == 5
        assert signed()[2] != in_flight[2]  # new signatures use the new key
    with override_settings(SECRET_KEY="a-new-secret-key-" + "s" * 50, SECRET_KEY_FALLBACKS=[old_secret]):
        assert authentic_event(*by_old_secret)["event_id"] == 5
    with override_settings(SECRET_KEY="a-new-secret-key-" + "s" * 50):
        with pytest.raises(Refused):  # once the old secret is dropped, so are its signatures
            authentic_event(*by_old_secret)


def run_with_prod_settings(**env: str) -> subprocess.CompletedProcess:
    secret = "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(60))
    environment = {name: value for name, value in os.environ.items() if name != "DEBUG"} | {
        "DJANGO_SETTINGS_MODULE": "project.settings.prod", "SECRET_KEY": secret,
        "DATABASE_URL": "postgres://flux@127.0.0.1:5432/flux", "FLUX_LOG_SHIPPING": "0", "FLUX_NUM_PROXIES": "1",
        **env,
    }
    return subprocess.run([sys.executable, "manage.py", "check"], cwd=settings.BASE_DIR, env=environment,
                          capture_output=True, text=True, timeout=120)


def test_production_refuses_a_weak_signing_key_and_accepts_a_strong_one():
    weak = run_with_prod_settings(FLUX_AUDIT_SIGNING_KEY="short")
    strong = run_with_prod_settings(FLUX_AUDIT_SIGNING_KEY=secrets.token_urlsafe(32))

    assert weak.returncode != 0 and "FLUX_AUDIT_SIGNING_KEY is too weak" in weak.stderr
    assert strong.returncode == 0, strong.stderr
