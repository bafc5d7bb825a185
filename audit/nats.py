"""NATS JetStream plumbing shared by the relay, the consumer, the dashboards and the log handler."""

from __future__ import annotations

import json
import logging

import nats
from django.conf import settings
from nats.js import api
from nats.js.errors import NotFoundError

from audit.models import AuditEvent

logger = logging.getLogger("nats.flux")


async def _quiet_error(exc: Exception) -> None:
    # nats-py reports every failed (re)connection at ERROR; callers handle outages themselves.
    logger.debug("NATS connection error: %s", exc)


def subject_for(action: str) -> str:
    """audit.<area>.<action>, e.g. audit.transaction.posted."""
    return f"audit.{action}"


def event_payload(event: AuditEvent) -> bytes:
    return json.dumps(
        {
            "event_id": event.pk,
            "occurred_at": event.occurred_at.isoformat(),
            "actor_id": event.actor_id,
            "actor_username": event.actor_username,
            "action": event.action,
            "target_type": event.target_type,
            "target_id": event.target_id,
            "data": event.data,
        },
        sort_keys=True,
        separators=(",", ":"),
    ).encode()


async def connect(name: str, **options) -> nats.NATS:
    """Connect to settings.NATS_URL; reconnect forever once connected. With
    `allow_reconnect=False` the connection is tried twice at once, then refused: nats-py keeps
    retrying the first connection for as long as `max_reconnect_attempts` allows (forever at -1
    or 0), whatever `allow_reconnect` says."""
    if options.get("allow_reconnect") is False:
        options.setdefault("max_reconnect_attempts", 1)
        options.setdefault("reconnect_time_wait", 0)
    defaults = {
        "name": name,
        "connect_timeout": 2,
        "reconnect_time_wait": 1,
        "max_reconnect_attempts": -1,
        "allow_reconnect": True,
        "error_cb": _quiet_error,
    }
    return await nats.connect(settings.NATS_URL, **(defaults | options))


def audit_stream_config() -> api.StreamConfig:
    return api.StreamConfig(
        name=settings.FLUX_AUDIT_STREAM,
        subjects=["audit.>"],
        storage=api.StorageType.FILE,
        retention=api.RetentionPolicy.LIMITS,
        # Publications carrying the same Nats-Msg-Id within this window are stored once.
        duplicate_window=settings.FLUX_AUDIT_DEDUP_WINDOW_SECONDS,
        max_age=settings.FLUX_AUDIT_STREAM_MAX_AGE_DAYS * 86400,
    )


def logs_stream_config() -> api.StreamConfig:
    return api.StreamConfig(
        name=settings.FLUX_LOGS_STREAM,
        subjects=["logs.>"],
        storage=api.StorageType.FILE,
        retention=api.RetentionPolicy.LIMITS,
        max_msgs=settings.FLUX_LOGS_STREAM_MAX_MSGS,
        discard=api.DiscardPolicy.OLD,
    )


async def ensure_stream(js, config: api.StreamConfig) -> None:
    try:
        await js.stream_info(config.name)
    except NotFoundError:
        await js.add_stream(config)
    else:
        await js.update_stream(config)


def audit_consumer_config() -> api.ConsumerConfig:
    return api.ConsumerConfig(
        durable_name=settings.FLUX_AUDIT_CONSUMER,
        ack_policy=api.AckPolicy.EXPLICIT,
        deliver_policy=api.DeliverPolicy.ALL,
        ack_wait=settings.FLUX_AUDIT_ACK_WAIT_SECONDS,
        max_deliver=-1,
        filter_subject="audit.>",
    )
