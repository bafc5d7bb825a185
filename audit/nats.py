"""NATS JetStream plumbing shared by the relay, the consumer, the dashboards and the log handler."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any
from urllib.parse import urlsplit

import nats
from django.conf import settings
from nats.js import api
from nats.js.errors import APIError, NotFoundError

from audit.models import AuditEvent
from audit.signing import event_headers

logger = logging.getLogger("nats.flux")
# What an operator must hear about (shipped with the other logs, unlike the NATS client's own).
streams_logger = logging.getLogger("flux.audit.nats")

# The id of the request behind an audit event (core/request_id.py), on its NATS message.
REQUEST_ID_HEADER = "Flux-Request-Id"

# The relay and the consumer retry a lost NATS with backoff up to this many seconds.
MAX_BACKOFF_SECONDS = 5.0


async def _quiet_error(exc: Exception) -> None:
    # nats-py reports every failed (re)connection at ERROR; callers handle outages themselves. A
    # permissions violation is no outage but a process doing what its NATS user may not
    # (deploy/nats/nats.conf): say so. (This logger is never shipped to NATS, so a refused log
    # shipment cannot feed itself.)
    if "permissions violation" in str(exc).lower():
        logger.error("NATS refused this process (user %r): %s", settings.NATS_USER, exc)
    else:
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


def audit_message(event: AuditEvent) -> tuple[str, bytes, dict[str, str]]:
    """What the relay publishes for an event: subject, payload and headers (a keyed Nats-Msg-Id
    and the signature, see audit/signing.py)."""
    subject, payload = subject_for(event.action), event_payload(event)
    headers = event_headers(subject, payload, event.pk)
    request_id = (event.data or {}).get("request_id")
    if request_id:
        # The request that made the change, for whoever reads the stream (also in the signed payload).
        headers[REQUEST_ID_HEADER] = str(request_id)
    return subject, payload, headers


def server_urls(urls: str) -> list[str]:
    """The servers of a NATS_URL (or NATS_MONITOR_URL): one URL, or several comma-separated (the
    nodes of a cluster), each possibly with its own credentials."""
    return [url.strip() for url in urls.split(",") if url.strip()]


def public_url(urls: str) -> str:
    """The URL, or every URL of a list, without any credentials (fit for a log line or a page)."""
    return ",".join(f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}" if parts.netloc else url
                    for url, parts in ((url, urlsplit(url)) for url in server_urls(urls)))


def credentials() -> dict[str, str]:
    """NATS_USER / NATS_PASSWORD as nats-py options, with the user's own inbox prefix
    (deploy/nats/nats.conf lets each user subscribe to _INBOX.<user>.> only). Without them, the
    URL's own credentials (nats://user:password@host) or none."""
    if not (settings.NATS_USER and settings.NATS_PASSWORD):
        return {}
    return {"user": settings.NATS_USER, "password": settings.NATS_PASSWORD,
            "inbox_prefix": f"_INBOX.{settings.NATS_USER}"}


async def connect(name: str, **options) -> nats.NATS:
    """Connect to settings.NATS_URL as settings.NATS_USER; reconnect forever once connected. With
    `allow_reconnect=False` the connection is tried twice at once, then refused: nats-py keeps
    retrying the first connection for as long as `max_reconnect_attempts` allows (forever at -1
    or 0), whatever `allow_reconnect` says.

    Every server of NATS_URL goes to nats-py, which tries them in random order and, once
    connected, moves to another when its server goes. (It also learns the cluster's other nodes
    from the server, but a fresh connection while the one listed node is down could not, nor
    could it log in to a learnt node with credentials given in the URL: list them all.)"""
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
    return await nats.connect(servers=server_urls(settings.NATS_URL), **(defaults | credentials() | options))


async def close_quietly(nc) -> None:
    try:
        await nc.close()
    except Exception:  # closing a connection that is already dead
        pass


async def sleep_or_stop(stop: asyncio.Event, seconds: float) -> None:
    """Wait `seconds`, or less if `stop` is set meanwhile."""
    try:
        await asyncio.wait_for(stop.wait(), timeout=seconds)
    except TimeoutError:
        pass


def audit_stream_config() -> api.StreamConfig:
    return api.StreamConfig(
        name=settings.FLUX_AUDIT_STREAM,
        subjects=["audit.>"],
        storage=api.StorageType.FILE,
        retention=api.RetentionPolicy.LIMITS,
        # Publications carrying the same Nats-Msg-Id within this window are stored once.
        duplicate_window=settings.FLUX_AUDIT_DEDUP_WINDOW_SECONDS,
        max_age=settings.FLUX_AUDIT_STREAM_MAX_AGE_DAYS * 86400,
        # On a cluster, 3: the stream (and its durable consumer, which follows it) survives the
        # loss of a node. A standalone server accepts only 1.
        num_replicas=settings.FLUX_AUDIT_STREAM_REPLICAS,
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
    """Create the stream, or bring an existing one to `config` (an R1 stream becomes R3 once
    FLUX_AUDIT_STREAM_REPLICAS says 3). When JetStream cannot place the replicas asked for (a
    standalone server, too few nodes up), an existing stream keeps its replicas, with a warning, and
    the rest of `config` still applies; a new stream is not created (the error goes to the caller,
    which retries)."""
    try:
        info = await js.stream_info(config.name)
    except NotFoundError:
        await js.add_stream(config)
        return
    try:
        await js.update_stream(config)
    except APIError as exc:
        replicas = info.config.num_replicas or 1
        if (config.num_replicas or 1) == replicas:
            raise
        streams_logger.warning("NATS stream %s stays at %d replicas: JetStream refused %d (%s)",
                               config.name, replicas, config.num_replicas, exc.description or exc)
        await js.update_stream(replace(config, num_replicas=replicas))


def audit_consumer_config() -> api.ConsumerConfig:
    return api.ConsumerConfig(
        durable_name=settings.FLUX_AUDIT_CONSUMER,
        ack_policy=api.AckPolicy.EXPLICIT,
        deliver_policy=api.DeliverPolicy.ALL,
        ack_wait=settings.FLUX_AUDIT_ACK_WAIT_SECONDS,
        max_deliver=-1,
        filter_subject="audit.>",
    )


async def serve_audit_stream(
    *,
    name: str,
    stop: asyncio.Event,
    work: Callable[[nats.NATS, Any, Callable[[], None]], Awaitable[None]],
    log: logging.Logger,
    doing: str,
) -> None:
    """Connect as `name`, make sure the AUDIT stream exists and run `work(nc, js, ready)` until `stop`
    is set, surviving NATS outages: whatever fails (NATS unreachable, a lost connection, a refused
    call) is logged, the connection closed, and everything starts again after a backoff that doubles
    up to MAX_BACKOFF_SECONDS. `work` calls `ready()` once it is set up (the relay at once, the
    consumer once subscribed), which resets the backoff; a setup that keeps failing backs off.
    The relay and the consumer both run this way."""
    backoff = 0.2

    def ready() -> None:
        nonlocal backoff
        backoff = 0.2

    while not stop.is_set():
        try:
            nc = await connect(name, max_reconnect_attempts=0)
        except Exception as exc:
            log.warning("NATS unreachable (%s); retrying in %.1fs", exc, backoff)
            await sleep_or_stop(stop, backoff)
            backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)
            continue
        try:
            js = nc.jetstream(timeout=2)
            await ensure_stream(js, audit_stream_config())
            await work(nc, js, ready)
        except Exception as exc:
            log.warning("%s NATS failed (%r); retrying in %.1fs", doing, exc, backoff)
            await sleep_or_stop(stop, backoff)
            backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)
        finally:
            await close_quietly(nc)
