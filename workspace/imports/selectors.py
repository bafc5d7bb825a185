"""Reading imports: recent ones, one by id, and each one's progress."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Count

from core.errors import NotFound
from core.ids import parse_id
from workspace.models import ImportBatch, ImportLine, ImportLineStatus


@dataclass(frozen=True)
class ImportProgress:
    total: int
    counts: dict[str, int]

    @property
    def waiting(self) -> int:
        return self.counts.get(ImportLineStatus.VALID, 0)

    @property
    def done(self) -> int:
        return self.total - self.waiting

    @property
    def finished(self) -> bool:
        return self.waiting == 0

    @property
    def percent(self) -> int:
        return 100 if not self.total else self.done * 100 // self.total

    def as_json(self) -> dict:
        return {"total": self.total, "done": self.done, "percent": self.percent, "finished": self.finished,
                "counts": {status.value: self.counts.get(status, 0) for status in ImportLineStatus}}


def import_progress(batch: ImportBatch) -> ImportProgress:
    return import_progress_many([batch])[batch.pk]


def import_progress_many(batches: Iterable[ImportBatch]) -> dict[int, ImportProgress]:
    """Each batch's progress, by batch id, in one query whatever the number of batches."""
    batches = list(batches)
    counts: dict[int, Counter] = {batch.pk: Counter() for batch in batches}
    rows = (ImportLine.objects.filter(batch__in=batches).order_by().values_list("batch_id", "status")
            .annotate(n=Count("id")))
    for batch_id, status, n in rows:
        counts[batch_id][status] = n
    return {batch.pk: ImportProgress(total=batch.line_count, counts=counts[batch.pk]) for batch in batches}


def first_upload(batch: ImportBatch) -> ImportBatch:
    """The first upload of this very file: every upload of one file applies under its lock."""
    return ImportBatch.objects.filter(sha256=batch.sha256).order_by("created_at", "id").first() or batch


def import_batches_recent(*, limit: int = 20) -> list[ImportBatch]:
    return list(ImportBatch.objects.select_related("uploaded_by").order_by("-created_at", "-id")[:limit])


def import_batch_get(batch_id: object) -> ImportBatch:
    try:
        return ImportBatch.objects.select_related("uploaded_by").get(pk=parse_id(batch_id))
    except ImportBatch.DoesNotExist:
        raise NotFound("Import not found.") from None
