"""The audit log's hash chain: each row's hash covers its canonical content and the previous
row's hash. Editing, deleting or reordering rows breaks it, and `verify` names the first bad row."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from audit.models import AuditLogRecord, ChainHead
from core.db.insert import insert_all

GENESIS = "0" * 64


def _instant(value: datetime | str) -> str:
    moment = parse_datetime(value) if isinstance(value, str) else value
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def canonical(record: dict) -> bytes:
    """The bytes a row's hash covers: its content as sorted, compact JSON (the same whatever the
    database did to key order or timezones)."""
    content = {
        "event_id": int(record["event_id"]),
        "occurred_at": _instant(record["occurred_at"]),
        "actor_id": record.get("actor_id"),
        "actor_username": record.get("actor_username") or "",
        "action": record["action"],
        "target_type": record.get("target_type") or "",
        "target_id": str(record.get("target_id") or ""),
        "data": record.get("data") or {},
    }
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def chain_hash(prev_hash: str, record: dict) -> str:
    return hashlib.sha256(prev_hash.encode() + b"\n" + canonical(record)).hexdigest()


def _new_record(event: dict, prev_hash: str, recorded_at: datetime) -> AuditLogRecord:
    return AuditLogRecord(
        event_id=int(event["event_id"]),
        occurred_at=parse_datetime(event["occurred_at"]),
        actor_id=event.get("actor_id"),
        actor_username=event.get("actor_username") or "",
        action=event["action"],
        target_type=event.get("target_type") or "",
        target_id=str(event.get("target_id") or ""),
        data=event.get("data") or {},
        recorded_at=recorded_at,
        prev_hash=prev_hash,
        hash=chain_hash(prev_hash, event),
    )


def append_batch(events: Sequence[dict]) -> tuple[list[AuditLogRecord], list[int]]:
    """Store events from NATS at the end of the chain, in the order given, exactly once by event id:
    one that is already in the log, or earlier in `events`, is skipped. Returns the new rows (with
    their seq) and the ids skipped.

    One transaction for the whole batch, so a batch costs one lock, one query for the ids already
    stored, one INSERT and one update of the head instead of that many per event: the chain head is
    locked once (appends stay serial), the hashes are computed in memory, each linking to the one
    before. Either every new row commits with the head that names the last of them, or none does.
    The chain follows the order of arrival, not of event ids (a transaction that took its id first
    may commit last), so nothing here waits for a missing id."""
    with transaction.atomic():
        head, _ = ChainHead.objects.select_for_update().get_or_create(id=1)
        ids = [int(event["event_id"]) for event in events]
        seen = set(AuditLogRecord.objects.filter(event_id__in=ids).values_list("event_id", flat=True))
        recorded_at, prev_hash = timezone.now(), head.last_hash
        records: list[AuditLogRecord] = []
        skipped: list[int] = []
        for event_id, event in zip(ids, events, strict=True):
            if event_id in seen:
                skipped.append(event_id)
                continue
            seen.add(event_id)
            records.append(_new_record(event, prev_hash, recorded_at))
            prev_hash = records[-1].hash
        if records:
            insert_all(records)  # core.db.insert: bulk_create without the ORM's query compiler
            seqs = [record.seq for record in records]
            # verify() walks the chain by seq: the rows must have taken their seqs in list order.
            if seqs != sorted(seqs) or seqs[0] <= head.last_seq:
                raise RuntimeError(f"audit log rows got seqs out of order: {seqs[:5]}...")
            head.last_seq, head.last_hash, head.length = seqs[-1], prev_hash, head.length + len(records)
            head.save(update_fields=["last_seq", "last_hash", "length"])
        return records, skipped


def append(event: dict) -> tuple[AuditLogRecord, bool]:
    """Store one event at the end of the chain, exactly once by event id (append_batch of one).
    Returns the row, new or the one already stored, and whether it was new."""
    records, _ = append_batch([event])
    if records:
        return records[0], True
    return AuditLogRecord.objects.get(event_id=int(event["event_id"])), False


@dataclass(frozen=True)
class Verdict:
    ok: bool
    checked: int
    first_bad: int | None  # the seq of the first row that does not verify
    reason: str = ""


FIELDS = ("seq", "event_id", "occurred_at", "actor_id", "actor_username", "action", "target_type",
          "target_id", "data", "prev_hash", "hash")


def verify(*, chunk_size: int = 2000) -> Verdict:
    """Recompute the whole chain in order. A row is bad when it does not link to the row before it
    (a row deleted or moved) or its hash does not match its content (a row edited)."""
    expected_prev = GENESIS
    checked = 0
    rows = AuditLogRecord.objects.order_by("seq").values(*FIELDS).iterator(chunk_size=chunk_size)
    for row in rows:
        checked += 1
        if row["prev_hash"] != expected_prev:
            return Verdict(False, checked, row["seq"], "does not link to the previous row")
        if chain_hash(row["prev_hash"], row) != row["hash"]:
            return Verdict(False, checked, row["seq"], "content does not match its hash")
        expected_prev = row["hash"]
    head = ChainHead.objects.filter(id=1).first()
    if head is not None and (head.last_hash != expected_prev or head.length != checked):
        # Rows after the last one found were removed: the head still names the real tip.
        return Verdict(False, checked, head.last_seq, "the end of the chain was removed")
    return Verdict(True, checked, None)
