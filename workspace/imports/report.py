"""An import's report: each line as sent, its result and why, as CSV rows (core/safe_csv.py)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from core import safe_csv
from core.money import format_minor
from workspace.imports.messages import for_people
from workspace.imports.reader import HEADER
from workspace.models import ImportBatch, ImportLine, ImportLineStatus


def import_report_rows(batch: ImportBatch) -> Iterable[list[str]]:
    """The report's rows: the line as sent, its result and why. As they are: the CSV writer
    (core/safe_csv.py) makes every cell safe, so a reference such as `=HYPERLINK(...)` is not run
    by a spreadsheet."""
    labels = dict(ImportLineStatus.choices)
    yield ["line", *HEADER, "result", "message", "transaction"]
    for line in batch.lines.order_by("number").iterator(chunk_size=2000):
        cells = [*line.raw, *[""] * (len(HEADER) - len(line.raw))][: len(HEADER)]
        yield [str(line.number), *(str(cell) for cell in cells), str(labels[line.status]), for_people(line.message),
               str(line.transaction_id or "")]


def import_report_csv_lines(batch: ImportBatch) -> Iterator[str]:
    """The report as CSV, one line at a time (for a streaming response), written by core/safe_csv.py."""
    writer = safe_csv.writer(_LineEcho())
    for row in import_report_rows(batch):
        yield writer.writerow(row)


class _LineEcho:
    """A file whose write returns what it is given: csv then hands each formatted line back."""

    def write(self, text: str) -> str:
        return text


def describe_amount(line: ImportLine) -> str:
    return format_minor(line.amount) if line.amount is not None else ""
