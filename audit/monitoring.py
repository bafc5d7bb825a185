"""What the NATS dashboard shows: the server (from its monitoring port), the AUDIT stream and its
consumer, the recent shipped logs and their drop counters (JetStream), and the outbox backlog and
relay lag (the database). Every NATS question has a short timeout, so the dashboard answers about
as fast when NATS is down, saying so, with the database figures still there."""

from __future__ import annotations

import asyncio
import json
import logging
import urllib.error
import urllib.request
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.utils import timezone
from nats.js.errors import NotFoundError

from audit.logshipping import shipping_handler
from audit.models import ChainHead
from audit.nats import connect, public_url, server_urls
from audit.selectors import outbox_state

logger = logging.getLogger("flux.audit.monitoring")

TIMEOUT_SECONDS = 1.0
RECENT_LOGS = 20
MAX_LOG_SUBJECTS = 50
# The pipeline's processes, by the connection name they give NATS (audit/relay.py, consumer.py).
PIPELINE_CLIENTS = (("flux-relay", "Relay"), ("flux-audit-consumer", "Consumer"))


def _get_json(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310 (our own setting)
        return json.load(response)


async def _server(base: str) -> tuple[dict, dict] | str:
    """/varz and /connz of one monitoring port, or why not."""
    base = base.rstrip("/")
    try:
        return await asyncio.gather(
            asyncio.to_thread(_get_json, f"{base}/varz"),
            asyncio.to_thread(_get_json, f"{base}/connz?limit=1024&sort=start"),
        )
    except (OSError, urllib.error.URLError, ValueError) as exc:
        return str(getattr(exc, "reason", exc))


async def server_status() -> dict[str, Any]:
    """/varz and /connz of the monitoring ports (NATS_MONITOR_URL: one, or a cluster's nodes,
    comma-separated). The server shown is the first that answers; the connections are those of
    every node that answers, so that a process connected to another node still counts."""
    answers = await asyncio.gather(*(_server(url) for url in server_urls(settings.NATS_MONITOR_URL)))
    servers = [answer for answer in answers if not isinstance(answer, str)]
    if not servers:
        return {"reachable": False, "error": "; ".join(answers) or "no NATS_MONITOR_URL",
                "server": None,
                "clients": [{"name": name, "label": label, "connected": None, "count": 0}
                            for name, label in PIPELINE_CLIENTS],
                "connections": []}
    varz = servers[0][0]
    several = len(servers) > 1
    connections = [
        # Connection ids are per node: with several, the node's name makes them unique.
        (f"{node.get('server_name', '')}/{connection.get('cid')}" if several else connection.get("cid"), connection)
        for node, connz in servers for connection in connz.get("connections") or []
    ]
    names = [connection.get("name") or "" for _, connection in connections]
    return {
        "reachable": True,
        "error": "",
        "server": {
            "name": varz.get("server_name", ""),
            "version": varz.get("version", ""),
            "uptime": varz.get("uptime", ""),
            "start": varz.get("start", ""),
            "connections": varz.get("connections", 0),
            "total_connections": varz.get("total_connections", 0),
            "in_msgs": varz.get("in_msgs", 0),
            "out_msgs": varz.get("out_msgs", 0),
            "jetstream": bool(varz.get("jetstream")),
        },
        "clients": [
            {"name": name, "label": label, "connected": name in names, "count": names.count(name)}
            for name, label in PIPELINE_CLIENTS
        ],
        "connections": [
            {
                "cid": cid,
                "name": connection.get("name") or "(unnamed)",
                "address": f"{connection.get('ip', '')}:{connection.get('port', '')}",
                "client": f"{connection.get('lang', '')} {connection.get('version', '')}".strip(),
                "uptime": connection.get("uptime", ""),
                "subscriptions": connection.get("subscriptions", 0),
                "pending_bytes": connection.get("pending_bytes", 0),
            }
            for cid, connection in connections
        ],
    }


def _log_entry(message) -> dict[str, Any]:
    try:
        entry = json.loads(message.data or b"{}")
    except ValueError:
        entry = {"message": (message.data or b"")[:500].decode(errors="replace")}
    return {
        "seq": message.seq,
        "subject": message.subject,
        "time": entry.get("time", ""),
        "service": entry.get("service", ""),
        "level": entry.get("level", ""),
        "logger": entry.get("logger", ""),
        "message": str(entry.get("message", ""))[:500],
        "dropped_total": entry.get("dropped_total"),
    }


async def _message_or_none(call):
    try:
        return await call
    except NotFoundError:  # removed by the stream's limits meanwhile
        return None


async def _stream_or_none(js, name: str, **options):
    try:
        return await js.stream_info(name, **options)
    except NotFoundError:  # nothing has created it yet
        return None


async def jetstream_status() -> dict[str, Any]:
    """The AUDIT stream and its consumer, and the LOGS stream's recent messages (nats-py)."""
    nc = await connect("flux-dashboard", allow_reconnect=False, connect_timeout=TIMEOUT_SECONDS)
    try:
        js = nc.jetstream(timeout=TIMEOUT_SECONDS)
        audit, logs = await asyncio.gather(
            _stream_or_none(js, settings.FLUX_AUDIT_STREAM),
            _stream_or_none(js, settings.FLUX_LOGS_STREAM, subjects_filter="logs.>"),
        )
        consumer = None
        if audit is not None:
            try:
                consumer = await js.consumer_info(settings.FLUX_AUDIT_STREAM, settings.FLUX_AUDIT_CONSUMER)
            except NotFoundError:
                consumer = None
        recent: list[dict] = []
        dropped: list[dict] = []
        if logs is not None and logs.state.messages:
            first, last = logs.state.first_seq, logs.state.last_seq
            sequences = range(last, max(first, last - RECENT_LOGS + 1) - 1, -1)
            subjects = sorted(logs.state.subjects or {})[:MAX_LOG_SUBJECTS]
            messages = await asyncio.gather(
                *(_message_or_none(js.get_msg(settings.FLUX_LOGS_STREAM, seq=seq)) for seq in sequences),
                *(_message_or_none(js.get_last_msg(settings.FLUX_LOGS_STREAM, subject)) for subject in subjects),
            )
            recent = [_log_entry(message) for message in messages[: len(sequences)] if message is not None]
            # Each entry carries its process's running drop count: the latest per service is the news.
            latest: dict[str, dict] = {}
            for message in messages[len(sequences):]:
                if message is None:
                    continue
                entry = _log_entry(message)
                service = entry["service"] or message.subject.split(".")[1]
                if service not in latest or entry["seq"] > latest[service]["seq"]:
                    latest[service] = entry
            dropped = [
                {"service": service, "dropped_total": entry["dropped_total"] or 0, "time": entry["time"]}
                for service, entry in sorted(latest.items())
            ]
    finally:
        await nc.close()
    return {
        "audit_stream": None if audit is None else {
            "name": settings.FLUX_AUDIT_STREAM,
            "messages": audit.state.messages,
            "bytes": audit.state.bytes,
            "first_seq": audit.state.first_seq,
            "last_seq": audit.state.last_seq,
            "consumer_count": audit.state.consumer_count,
        },
        "audit_consumer": None if consumer is None else {
            "name": settings.FLUX_AUDIT_CONSUMER,
            "num_pending": consumer.num_pending or 0,
            "num_ack_pending": consumer.num_ack_pending or 0,
            "num_redelivered": consumer.num_redelivered or 0,
            "delivered_seq": consumer.delivered.stream_seq if consumer.delivered else 0,
        },
        "logs_stream": None if logs is None else {"name": settings.FLUX_LOGS_STREAM, "messages": logs.state.messages},
        "recent_logs": recent,
        "log_drops": dropped,
    }


def database_status() -> dict[str, Any]:
    outbox = outbox_state()
    head = ChainHead.objects.filter(id=1).first()
    return {
        "outbox": {
            "backlog": outbox.backlog,
            "oldest_at": outbox.oldest_at.isoformat() if outbox.oldest_at else None,
            "relay_lag_seconds": round(outbox.relay_lag_seconds, 1),
        },
        "audit_log": {"length": head.length if head else 0, "last_seq": head.last_seq if head else 0},
    }


def this_process_shipping() -> dict[str, Any] | None:
    handler = shipping_handler()
    if handler is None:
        return None
    return {"service": handler.service, "shipped": handler.shipped, "dropped": handler.dropped,
            "waiting": handler.buffer.qsize()}


async def nats_status() -> dict[str, Any]:
    """Everything the NATS dashboard shows, as JSON-ready data. Never raises for NATS trouble:
    `nats.reachable` is false and `nats.error` says why."""
    empty = {"audit_stream": None, "audit_consumer": None, "logs_stream": None, "recent_logs": [], "log_drops": []}
    server, jetstream, database = await asyncio.gather(
        server_status(),
        asyncio.wait_for(jetstream_status(), timeout=3 * TIMEOUT_SECONDS),
        sync_to_async(database_status)(),
        return_exceptions=True,
    )
    if isinstance(database, BaseException):
        raise database
    if isinstance(server, BaseException):  # not expected: server_status catches its errors
        raise server
    error = ""
    if isinstance(jetstream, BaseException):
        error = str(jetstream) or type(jetstream).__name__
        logger.info("NATS dashboard: JetStream unreachable (%s)", error)
        jetstream = empty
    return {
        "checked_at": timezone.now().isoformat(),
        "nats": {"url": public_url(settings.NATS_URL), "reachable": not error, "error": error},
        "monitor": {"url": public_url(settings.NATS_MONITOR_URL), "reachable": server["reachable"],
                    "error": server["error"]},
        "server": server["server"],
        "clients": server["clients"],
        "connections": server["connections"],
        **jetstream,
        **database,
        "log_shipping": this_process_shipping(),
    }
