"""Signatures on the audit pipeline's NATS messages, so that publishing on NATS is not enough to
write the tamper-evident audit log.

The relay signs each audit event: `Flux-Signature: v1=<hex>`, an HMAC-SHA256 over the subject,
the Nats-Msg-Id and the exact payload bytes, so a signed payload cannot be replayed under another
subject or id. The consumer checks it before it reads anything else (audit/consumer.py). The
Nats-Msg-Id is itself keyed (`<event id>:<tag>`): JetStream drops a second publication with the
same id within its de-duplication window, so an id anyone could compute would let a forger who
publishes first have the real event dropped. The consumer's announcements to the live tail
(`auditlog.recorded.<action>`) are signed the same way (no Nats-Msg-Id) and checked by the web.

The key is FLUX_AUDIT_SIGNING_KEY or, by default, derived from SECRET_KEY (never SECRET_KEY
itself: a signature then reveals nothing usable against Django's own signing). Signatures made
with a fallback key (FLUX_AUDIT_SIGNING_KEY_FALLBACKS, or SECRET_KEY_FALLBACKS for the derived key)
are still accepted, so keys can be rotated while messages are in flight.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

SIGNATURE_HEADER = "Flux-Signature"
MSG_ID_HEADER = "Nats-Msg-Id"
VERSION = "v1"
# The derived key: HMAC-SHA256(SECRET_KEY, this label). Changing it invalidates every signature.
KEY_LABEL = b"flux.audit.signing-key.v1"
TAG_LABEL = b"flux.audit.msg-id.v1"


class Refused(Exception):
    """A message whose signature, or whose id, does not check out. The text says why."""


def _derived(secret: str) -> bytes:
    return hmac.new(secret.encode(), KEY_LABEL, hashlib.sha256).digest()


def signing_keys() -> list[bytes]:
    """The key that signs, then the older keys still accepted."""
    if settings.FLUX_AUDIT_SIGNING_KEY:
        return [key.encode() for key in (settings.FLUX_AUDIT_SIGNING_KEY, *settings.FLUX_AUDIT_SIGNING_KEY_FALLBACKS)]
    if not settings.SECRET_KEY:
        raise ImproperlyConfigured("Audit messages are signed with a key derived from SECRET_KEY: set SECRET_KEY "
                                   "or FLUX_AUDIT_SIGNING_KEY.")
    return [_derived(secret) for secret in (settings.SECRET_KEY, *settings.SECRET_KEY_FALLBACKS)]


def _mac(key: bytes, subject: str, msg_id: str, payload: bytes) -> str:
    # Subjects and header values cannot hold a newline, so these parts cannot run into each other.
    signed = b"\n".join((VERSION.encode(), subject.encode(), msg_id.encode(), payload))
    return hmac.new(key, signed, hashlib.sha256).hexdigest()


def _tag(key: bytes, event_id: int) -> str:
    return hmac.new(key, TAG_LABEL + b"\n" + str(event_id).encode(), hashlib.sha256).hexdigest()[:32]


def message_id(event_id: int, key: bytes | None = None) -> str:
    """The Nats-Msg-Id of an event: always the same for one event (so JetStream drops a second
    publication of it), and not computable without the key (so nobody else can take it first)."""
    return f"{event_id}:{_tag(key or signing_keys()[0], int(event_id))}"


def signature(subject: str, payload: bytes, msg_id: str = "") -> str:
    """The Flux-Signature header value for this message, with the current key."""
    return f"{VERSION}={_mac(signing_keys()[0], subject, msg_id, payload)}"


def event_headers(subject: str, payload: bytes, event_id: int) -> dict[str, str]:
    """The headers the relay publishes an audit event with."""
    msg_id = message_id(event_id)
    return {MSG_ID_HEADER: msg_id, SIGNATURE_HEADER: signature(subject, payload, msg_id)}


def announcement_headers(subject: str, payload: bytes) -> dict[str, str]:
    """The headers of a live-tail announcement (core NATS, no Nats-Msg-Id)."""
    return {SIGNATURE_HEADER: signature(subject, payload)}


def verify(subject: str, payload: bytes, headers: Mapping[str, str] | None, *, msg_id_required: bool) -> bytes:
    """Check a message's signature, in constant time, against every accepted key; return the key
    that signed it. Raises Refused (unsigned, unknown version, not signed by us for this subject,
    id and payload). Reads nothing of the payload: call it before parsing."""
    headers = headers or {}
    value = headers.get(SIGNATURE_HEADER)
    if not value:
        raise Refused(f"no {SIGNATURE_HEADER} header")
    version, _, mac = value.partition("=")
    if version != VERSION or not mac:
        raise Refused(f"unknown {SIGNATURE_HEADER} format")
    msg_id = headers.get(MSG_ID_HEADER) or ""
    if msg_id_required and not msg_id:
        raise Refused(f"no {MSG_ID_HEADER} header")
    for key in signing_keys():
        if hmac.compare_digest(_mac(key, subject, msg_id, payload).encode(), mac.encode()):
            return key
    raise Refused("the signature does not match (another key, subject, id or payload)")


def verify_event_id(headers: Mapping[str, str], event_id: int, key: bytes) -> None:
    """After `verify`: the event inside is the one the Nats-Msg-Id was made for."""
    if not hmac.compare_digest((headers.get(MSG_ID_HEADER) or "").encode(), message_id(event_id, key).encode()):
        raise Refused(f"the {MSG_ID_HEADER} header is not the one of event {event_id}")
