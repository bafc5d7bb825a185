"""The audit dashboard's live tail: server-sent events fed by the consumer's core NATS
announcements (`auditlog.recorded.<action>`, see audit.consumer.record_message).

On connect the stream first sends, from the database, the records after the client's
Last-Event-ID (a reconnection misses nothing), then forwards each announcement. Announcements are
core NATS (at most once), so any gap - NATS restarted, a slow client - ends the stream instead:
the browser's EventSource reconnects with its Last-Event-ID and the database fills the gap.
Only announcements the consumer signed are shown (audit/signing.py): anyone else publishing on
`auditlog.recorded.>` is logged and ignored."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from datetime import datetime

from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from audit.api.filters import AuditLogFilter
from audit.models import AuditLogRecord
from audit.nats import connect
from audit.presentation import event_details
from audit.selectors import REPLAY_LIMIT, active_filters, records_after
from audit.signing import Refused, verify

logger = logging.getLogger("flux.audit.live")

# The browser waits this long before reconnecting after the stream ends.
RETRY_MILLISECONDS = 2000
# Announcements waiting for a slow client; beyond this the stream ends and the client catches up
# from the database on reconnection.
MAX_WAITING = 1000

# Where an event's target can be looked at in a browser: the read-only admin (the API detail
# URLs need a JWT, which a page does not have).
TARGET_ADMIN_VIEWS = {
    "account": "admin:banking_account_change",
    "transaction": "admin:banking_transaction_change",
    "user": "admin:identity_user_change",
    "customer": "admin:identity_user_change",
}


def target_url(target_type: str, target_id: str) -> str:
    view = TARGET_ADMIN_VIEWS.get(target_type)
    if not view or not str(target_id).isdigit():
        return ""
    try:
        return reverse(view, args=[target_id])
    except NoReverseMatch:
        return ""


def display_time(moment: datetime) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M:%S")


def audit_row(record: Mapping) -> dict:
    """One row of the dashboard's table, the same for a page and for the live tail. `record` is a
    record_message payload (actor = username, id = event id)."""
    occurred_at = record["occurred_at"]
    moment = parse_datetime(occurred_at) if isinstance(occurred_at, str) else occurred_at
    target_type, target_id = record.get("target_type") or "", str(record.get("target_id") or "")
    return {
        "seq": int(record["seq"]),
        "id": record.get("id"),
        "occurred_at": moment.isoformat(),
        "occurred_display": display_time(moment),
        "actor": record.get("actor") or "",
        "action": record["action"],
        "target_type": target_type,
        "target_id": target_id,
        "target_label": f"{target_type} {target_id}".strip(),
        "target_url": target_url(target_type, target_id),
        # What happened in words, with the amount and the reason (audit.presentation).
        **{f"detail_{name}": value for name, value in event_details(record["action"], record.get("data")).items()},
    }


def record_row(record: AuditLogRecord) -> dict:
    return audit_row({
        "seq": record.seq, "id": record.event_id, "occurred_at": record.occurred_at,
        "actor": record.actor_username, "action": record.action,
        "target_type": record.target_type, "target_id": record.target_id, "data": record.data,
    })


@dataclass(frozen=True)
class LiveFilter:
    """The page's filters (AuditLogFilter's meaning) applied to an announcement in memory."""

    actors: frozenset[str] = frozenset()
    action: str = ""
    target_type: str = ""
    target_id: str = ""
    start: datetime | None = None
    end: datetime | None = None
    valid: bool = True

    def matches(self, record: Mapping) -> bool:
        if not self.valid:
            return False
        if self.actors and (record.get("actor") or "") not in self.actors:
            return False
        action = record.get("action") or ""
        if self.action and not (action == self.action if "." in self.action
                                else action.startswith(f"{self.action}.")):
            return False
        if self.target_type and record.get("target_type") != self.target_type:
            return False
        if self.target_id and str(record.get("target_id")) != self.target_id:
            return False
        if self.start or self.end:
            moment = parse_datetime(str(record.get("occurred_at")))
            if moment is None or (self.start and moment < self.start) or (self.end and moment > self.end):
                return False
        return True


def live_filter(params: Mapping[str, str]) -> LiveFilter:
    """Parse the filters once per stream. An actor given as a user id also matches that user's
    username (announcements carry the username only)."""
    filters = active_filters(params)
    form = AuditLogFilter(filters, queryset=AuditLogRecord.objects.none()).form
    if not form.is_valid():
        return LiveFilter(valid=False)
    actors: set[str] = set()
    if actor := form.cleaned_data.get("actor"):
        actors.add(actor)
        if actor.isdigit():
            username = get_user_model().objects.filter(pk=int(actor)).values_list("username", flat=True).first()
            if username:
                actors.add(username)
    return LiveFilter(
        actors=frozenset(actors),
        action=form.cleaned_data.get("action") or "",
        target_type=form.cleaned_data.get("target_type") or "",
        target_id=form.cleaned_data.get("target_id") or "",
        start=form.cleaned_data.get("from"),
        end=form.cleaned_data.get("to"),
    )


def sse_event(row: dict) -> str:
    return f"id: {row['seq']}\ndata: {json.dumps(row, separators=(',', ':'))}\n\n"


def sse_status(state: str, message: str) -> str:
    return f"event: status\ndata: {json.dumps({'state': state, 'message': message})}\n\n"


def parse_last_event_id(value: str | None) -> int:
    value = (value or "").strip()
    return int(value) if value.isdigit() and int(value) < 2**63 else 0


def _replay_rows(seq: int, params: Mapping[str, str]) -> list[dict]:
    return [record_row(record) for record in records_after(seq=seq, params=params)]


def release_connection() -> None:
    """Give the request thread's database connection back to the pool: a stream may stay open for
    hours and reads the database no more once it has replayed (the pool is small and bounded).
    Called in the request's thread (`connection` is per thread); never inside a transaction (a
    test's), which closing would end."""
    if not connection.in_atomic_block:
        connection.close()


# What a stream's queue holds when no announcement came within the heartbeat.
HEARTBEAT = object()


class SignedAnnouncements:
    """A core NATS subscription to `subject` for one event stream, whose announcements are read
    only when signed (audit/signing.py; the rest are logged at ERROR and dropped). Enter it before
    reading the database, so nothing committed in between is missed. `unreachable` when NATS could
    not be reached; `next()` gives each announcement's data, HEARTBEAT after an idle heartbeat, and
    None once the connection is lost or the reader fell more than `max_waiting` behind (the stream
    then ends and the browser reconnects). Closed on exit. Shared by the audit live tail and the
    customers' notification stream (notifications/live.py)."""

    def __init__(self, *, name: str, subject: str, label: str, log: logging.Logger, max_waiting: int) -> None:
        self.name, self.subject, self.label, self.log, self.max_waiting = name, subject, label, log, max_waiting
        self.waiting: asyncio.Queue[bytes | None] = asyncio.Queue()
        self.nc = None

    @property
    def unreachable(self) -> bool:
        return self.nc is None

    async def _on_message(self, message) -> None:
        try:
            verify(message.subject, message.data, message.headers, msg_id_required=False)
        except Refused as refusal:
            self.log.error("%s: ignoring an announcement on %s: %s", self.label, message.subject, refusal)
            return
        self.waiting.put_nowait(None if self.waiting.qsize() >= self.max_waiting else message.data)

    async def _on_lost(self) -> None:
        self.waiting.put_nowait(None)

    async def __aenter__(self) -> SignedAnnouncements:
        try:
            self.nc = await connect(self.name, allow_reconnect=False, connect_timeout=1,
                                    disconnected_cb=self._on_lost, closed_cb=self._on_lost)
            await self.nc.subscribe(self.subject, cb=self._on_message)
        except Exception as exc:
            self.log.info("%s: NATS unreachable (%s)", self.label, exc)
            await self.__aexit__()
        return self

    async def __aexit__(self, *exc_info) -> None:
        if self.nc is not None:
            try:
                await self.nc.close()
            except Exception:  # closing a dead connection
                pass
            self.nc = None

    async def next(self) -> bytes | object | None:
        try:
            return await asyncio.wait_for(self.waiting.get(), timeout=settings.FLUX_LIVE_TAIL_HEARTBEAT_SECONDS)
        except TimeoutError:
            return HEARTBEAT


async def live_tail(*, last_seq: int, params: Mapping[str, str]) -> AsyncIterator[str]:
    """The event stream: replay from the database after `last_seq`, then live announcements,
    with a heartbeat comment when idle. Ends (and closes its NATS connection) when NATS goes away,
    when the client falls too far behind, or when the client disconnects (Django cancels it)."""
    yield f"retry: {RETRY_MILLISECONDS}\n\n"
    # Subscribed before the database is read, so nothing committed in between is missed (an
    # announcement already replayed is skipped by its seq).
    async with SignedAnnouncements(name="flux-live-tail", subject=f"{settings.FLUX_AUDIT_RECORDED_SUBJECT}.>",
                                   label="live tail", log=logger, max_waiting=MAX_WAITING) as announcements:
        matcher = await sync_to_async(live_filter)(params)
        last_sent = last_seq
        while True:
            rows = await sync_to_async(_replay_rows)(last_sent, params)
            for row in rows:
                yield sse_event(row)
                last_sent = row["seq"]
            if len(rows) < REPLAY_LIMIT:
                break
        await sync_to_async(release_connection)()

        if announcements.unreachable:
            yield sse_status("paused", "NATS is unreachable: live tail paused, retrying.")
            return
        yield sse_status("live", "Live: new events appear at the top.")
        while True:
            data = await announcements.next()
            if data is HEARTBEAT:
                yield ": heartbeat\n\n"
                continue
            if data is None:
                yield sse_status("paused", "Lost the connection to NATS: live tail paused, reconnecting.")
                return
            try:
                record = json.loads(data)
                row = audit_row(record)
            except (ValueError, KeyError, TypeError, AttributeError):
                logger.warning("live tail: ignoring a malformed announcement")
                continue
            if row["seq"] <= last_sent or not matcher.matches(record):
                continue
            yield sse_event(row)
            last_sent = row["seq"]
