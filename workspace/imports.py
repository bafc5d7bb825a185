"""Bulk imports: a CSV of deposits, withdrawals and transfers between Flux accounts.

Two steps, so that no web request runs for minutes and a page reload loses nothing:

1. `import_create` reads the whole file, refuses it outright when it is not a CSV of the expected
   header and size, and otherwise validates every line (shape, amount, IBANs of open Flux
   accounts) and stores each one with its result: `valid` or `invalid` with the reason.
2. `import_apply_next` applies the next `limit` valid lines (a chunk) through the batch path of
   the API (banking.services.movements_apply: the accounts locked once, every line under the rules
   of the counter and the API, everything written together), and records each line's result in
   the same database transaction as the money it moved: a chunk is applied whole or not at all,
   and a repeated chunk request, a reload, or the same file uploaded again never moves money
   twice (a second upload's lines say "already applied"). A refusal (insufficient funds, an
   account frozen since validation) is that line's result, not the file's, and the first answer is
   the answer: uploading the same file again refuses those lines again, saying which import
   refused them, rather than applying them after the staff member, told "refused", may have
   settled them another way. To try a refused line again, send it in a new file.

Every upload of one file applies under the lock of its first upload (`first_upload`), so two chunks,
or two uploads of the same file by two members of staff, never apply a line twice. Only the
uploader applies a batch (they are its operations' initiator). 10,000 lines apply in 10 chunks of
1,000, each about half a second (benchmarks/bulk_import.py).
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _

from audit import actions
from audit.services import audit_record
from banking import services
from banking.iban import normalize_iban, parse_iban
from banking.models import Account, AccountStatus, TransactionKind
from banking.services.batches import BatchOutcome
from banking.services.common import require_staff
from banking.services.movements import Movement
from core import safe_csv
from core.db.insert import insert_all
from core.errors import ApplicationError, NotFound, ValidationFailed
from core.ids import parse_id
from core.money import AmountError, format_minor, parse_amount
from identity.models import User
from workspace.models import ImportBatch, ImportLine, ImportLineStatus

HEADER = ["type", "account", "amount", "counterparty", "reference"]
KINDS = ("deposit", "withdrawal", "transfer")
MAX_LINES = 10_000
MAX_BYTES = 4 * 1024 * 1024  # 10,000 lines of two IBANs, an amount and a long reference fit
CHUNK = 1000
REFERENCE_MAX = 140

EXAMPLE_CSV = (
    "type,account,amount,counterparty,reference\r\n"
    "deposit,NL64FLUX0000000001,250.00,,Cash paid in at the desk\r\n"
    "withdrawal,NL64FLUX0000000001,40,,Cash paid out\r\n"
    "transfer,NL64FLUX0000000001,12.50,NL37FLUX0000000002,Rent share\r\n"
)

# What a service's refusal means, said for the report.
REFUSALS = {
    "insufficient_funds": lambda: _("Insufficient funds: the account does not have this much available."),
    "account_frozen": lambda: _("An account of this line is frozen."),
    "account_closed": lambda: _("An account of this line is closed."),
}


# --- Upload and validation ------------------------------------------------------------------------


def _read_rows(content: bytes) -> Iterator[tuple[int, list[str]]]:
    """The file's records after the header, each with the file line it starts on. Raises
    ValidationFailed when the file is not a CSV with the expected header."""
    if b"\x00" in content:
        raise ValidationFailed({"file": [_("This is not a CSV file (it holds binary data).")]})
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValidationFailed({"file": [_("This is not a CSV file in UTF-8.")]}) from None
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader, None)
        if header is None or [cell.strip().lower() for cell in header] != HEADER:
            raise ValidationFailed({"file": [
                _("The first line must be the header %(header)s.") % {"header": ",".join(HEADER)}
            ]})
        start = reader.line_num + 1
        for row in reader:
            if any(cell.strip() for cell in row):
                yield start, row
            start = reader.line_num + 1
    except csv.Error as exc:
        raise ValidationFailed({"file": [
            _("This is not a readable CSV file (line %(line)d: %(error)s).") % {"line": reader.line_num, "error": exc}
        ]}) from None


@dataclass
class _Accounts:
    """The Flux accounts a file names, looked up once per IBAN."""

    by_iban: dict[str, Account] = field(default_factory=dict)
    checked: dict[str, str | None] = field(default_factory=dict)  # IBAN -> problem, or None

    @classmethod
    def load(cls, rows: list[tuple[int, list[str]]]) -> _Accounts:
        ibans = {normalize_iban(cell) for _number, row in rows for cell in row[1:2] + row[3:4] if cell.strip()}
        accounts = Account.objects.filter(iban__in=ibans, customer__isnull=False)
        return cls(by_iban={account.iban: account for account in accounts})

    def find(self, value: str, column: str) -> tuple[Account | None, str | None]:
        iban = normalize_iban(value)
        if not iban:
            return None, _("The %(column)s is missing.") % {"column": column}
        if iban not in self.checked:
            try:
                parse_iban(iban)
                self.checked[iban] = None
            except ApplicationError:
                self.checked[iban] = "invalid"
        if self.checked[iban]:
            return None, _("The %(column)s %(iban)s is not a valid IBAN.") % {"column": column, "iban": iban}
        account = self.by_iban.get(iban)
        if account is None:
            return None, _("No Flux customer account has the IBAN %(iban)s (%(column)s).") % {
                "iban": iban, "column": column}
        if account.status == AccountStatus.CLOSED:
            return None, _("The account %(iban)s is closed.") % {"iban": iban}
        if account.status == AccountStatus.FROZEN:
            return None, _("The account %(iban)s is frozen.") % {"iban": iban}
        return account, None


def _validate(number: int, row: list[str], accounts: _Accounts) -> ImportLine:
    line = ImportLine(number=number, raw=row, status=ImportLineStatus.INVALID)
    if len(row) != len(HEADER):
        line.message = _("Expected %(expected)d cells (%(header)s), found %(found)d.") % {
            "expected": len(HEADER), "header": ", ".join(HEADER), "found": len(row)}
        return line
    kind, account_cell, amount_cell, counterparty_cell, reference = (cell.strip() for cell in row)
    kind = kind.lower()
    problems: list[str] = []
    if kind not in KINDS:
        problems.append(_("The type must be deposit, withdrawal or transfer."))
    account, problem = accounts.find(account_cell, _("account"))
    if problem:
        problems.append(problem)
    try:
        amount = parse_amount(amount_cell)
    except AmountError:
        amount = None
        problems.append(_("The amount must be a positive decimal such as 12.50 (at most two decimals)."))
    counterparty = None
    if kind == "transfer":
        counterparty, problem = accounts.find(counterparty_cell, _("counterparty"))
        if problem:
            problems.append(problem)
        elif account is not None and counterparty.pk == account.pk:
            problems.append(_("The account and the counterparty are the same account."))
        elif account is not None and counterparty.currency != account.currency:
            problems.append(_("The account is in %(source)s, the counterparty in %(destination)s.") % {
                "source": account.currency, "destination": counterparty.currency})
    elif kind in KINDS and counterparty_cell.strip():
        problems.append(_("Only a transfer has a counterparty."))
    if len(reference) > REFERENCE_MAX:
        problems.append(_("Keep the reference to %(max)d characters.") % {"max": REFERENCE_MAX})
    if problems:
        line.message = " ".join(problems)[:500]
        return line
    line.status = ImportLineStatus.VALID
    line.kind, line.account, line.amount, line.reference = kind, account, amount, reference
    line.counterparty_iban = counterparty.iban if counterparty else ""
    return line


def import_create(*, uploader: User, file_name: str, content: bytes) -> ImportBatch:
    """Store an uploaded CSV and validate every line; nothing is applied yet.

    The file is refused as a whole (validation_error on `file`, nothing stored) when it is empty,
    larger than MAX_BYTES, not UTF-8 text, not readable as CSV, without the header
    `type,account,amount,counterparty,reference`, without data lines or with more than MAX_LINES.
    Otherwise each line is stored `valid` or `invalid` with its reason.

    Errors: permission_denied (not staff), validation_error.
    """
    require_staff(uploader)
    # Only a label: kept printable (PostgreSQL refuses a NUL in text) and short.
    file_name = "".join(ch for ch in file_name or "" if ch.isprintable())[:255] or "import.csv"
    if not content:
        raise ValidationFailed({"file": [_("The file is empty.")]})
    if len(content) > MAX_BYTES:
        raise ValidationFailed({"file": [_("The file is larger than %(size)d MB.") % {"size": MAX_BYTES // 2**20}]})
    rows = list(_read_rows(content))
    if not rows:
        raise ValidationFailed({"file": [_("The file has a header but no operations.")]})
    if len(rows) > MAX_LINES:
        raise ValidationFailed({"file": [
            _("The file has %(count)d operations; send at most %(max)d per file.") % {
                "count": len(rows), "max": MAX_LINES}
        ]})
    accounts = _Accounts.load(rows)
    lines = [_validate(number, row, accounts) for number, row in rows]
    now = timezone.now()
    with transaction.atomic():
        batch = ImportBatch.objects.create(
            uploaded_by=uploader,
            file_name=file_name,
            sha256=hashlib.sha256(content).hexdigest(),
            line_count=len(lines),
            created_at=now,
        )
        for line in lines:
            line.batch = batch
        insert_all(lines)  # one array per column: Django's bulk_create was half of the upload's CPU
        invalid = sum(1 for line in lines if line.status == ImportLineStatus.INVALID)
        audit_record(
            actor=uploader,
            action=actions.IMPORT_UPLOADED,
            target_type="import",
            target_id=batch.pk,
            data={"file_name": batch.file_name, "sha256": batch.sha256, "lines": len(lines), "invalid": invalid},
        )
    return batch


# --- Applying, chunk by chunk ---------------------------------------------------------------------


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


def _before(batch: ImportBatch, numbers: list[int]) -> dict[int, ImportLine]:
    """Lines of this file that another upload applied, left pending or refused (whichever upload
    came first: they apply one at a time, first_upload): number -> the earliest such line. The
    import's own records say it (they commit with the money they moved), so a file uploaded
    again, by anyone and however much later, applies nothing twice."""
    rows = ImportLine.objects.exclude(batch=batch).filter(
        batch__sha256=batch.sha256, number__in=numbers,
        status__in=[ImportLineStatus.APPLIED, ImportLineStatus.PENDING, ImportLineStatus.REFUSED],
    ).order_by("batch_id").only("number", "batch_id", "status", "message", "transaction_id")
    earlier: dict[int, ImportLine] = {}
    for line in rows:
        earlier.setdefault(line.number, line)
    return earlier


def _movement(actor: User, line: ImportLine, caches: dict) -> Movement:
    """A valid line as a money movement, under every rule of the counter and the API."""
    if line.kind == "transfer":
        return services.transfer_movement(
            initiator=actor, source_account_id=line.account_id, destination_iban=line.counterparty_iban,
            amount=line.amount, reference=line.reference, accounts_by_iban=caches["by_iban"],
            sources=caches["accounts"],
        )
    kind = TransactionKind.DEPOSIT if line.kind == "deposit" else TransactionKind.WITHDRAWAL
    return services.cash_movement(kind=kind, initiator=actor, account_id=line.account_id, amount=line.amount,
                                  reference=line.reference, accounts=caches["accounts"], vaults=caches["vaults"])


def _record(line: ImportLine, outcome: BatchOutcome) -> None:
    """A line's result from its movement's outcome (not saved)."""
    if outcome.error is not None:
        exc = outcome.error
        line.status = ImportLineStatus.REFUSED
        line.message = (str(REFUSALS[exc.code]()) if exc.code in REFUSALS else exc.message)[:500]
        return
    line.transaction_id = outcome.transaction.pk
    if outcome.transaction.status == "pending":
        line.status = ImportLineStatus.PENDING
        line.message = _("Waits for a second member of staff to approve it.")
    else:
        line.status = ImportLineStatus.APPLIED
        line.message = ""


def _record_earlier(line: ImportLine, earlier: ImportLine) -> None:
    """A line an earlier upload of the file applied (or left pending), or refused: the first answer
    is the answer, so it is neither applied again nor tried again (the refused line may have been
    settled another way since: send it in a new file to try it again)."""
    if earlier.status == ImportLineStatus.REFUSED:
        line.status = ImportLineStatus.REFUSED
        message = _("Refused by import #%(batch)s: %(reason)s To try this line again, send it in a new file.") % {
            "batch": earlier.batch_id, "reason": earlier.message}
        line.message = message[:500]
        return
    line.transaction_id = earlier.transaction_id
    line.status = ImportLineStatus.ALREADY_APPLIED
    line.message = _("Already applied by import #%(batch)s.") % {"batch": earlier.batch_id}


def _save_results(lines: list[ImportLine]) -> None:
    """Write the lines' results in one round trip (an executemany is a pipeline in psycopg);
    Django's bulk_update took 0.8 s of CPU for a chunk of 500 (cProfile, benchmarks/bulk_import.py)."""
    table = connection.ops.quote_name(ImportLine._meta.db_table)
    with connection.cursor() as cursor:
        cursor.executemany(
            f"UPDATE {table} SET status = %s, message = %s, transaction_id = %s WHERE id = %s",
            [(line.status, line.message, line.transaction_id, line.pk) for line in lines],
        )


def import_apply_next(*, actor: User, batch_id: int, limit: int = CHUNK) -> ImportProgress:
    """Apply the next `limit` valid lines of a batch, in line order, and say how far it is.

    A chunk is one database transaction through the batch path of the API
    (banking.services.movements_apply): its accounts are locked once, in ascending order, every
    line is checked under the rules of the counter and the API and applied in order, a refused line
    (insufficient funds, an account frozen since validation) is that line's result, and the lines'
    results are written in the same transaction as the money they moved. So a chunk is applied
    whole or not at all, and its lines say so.

    Safe to repeat and to run twice at once, for this upload or another upload of the same file:
    each chunk first locks the file's first upload (first_upload), then reads which lines are still to
    apply and which an earlier upload already applied or refused. The first call marks the batch
    started.

    Errors: permission_denied (not staff, or not the uploader), not_found.
    """
    require_staff(actor)
    batch = ImportBatch.objects.filter(pk=batch_id).first()
    if batch is None:
        raise NotFound("Import not found.")
    if batch.uploaded_by_id != actor.pk:
        raise ApplicationError("permission_denied", _("Only the person who uploaded a file applies it."))
    with transaction.atomic():
        list(ImportBatch.objects.select_for_update().filter(pk=first_upload(batch).pk).values_list("pk"))
        batch = ImportBatch.objects.get(pk=batch.pk)  # as the chunk that held the lock left it
        if batch.started_at is None:
            batch.started_at = timezone.now()
            batch.save(update_fields=["started_at"])
            audit_record(actor=actor, action=actions.IMPORT_STARTED, target_type="import", target_id=batch.pk,
                         data={"file_name": batch.file_name, "sha256": batch.sha256})
        lines = list(batch.lines.filter(status=ImportLineStatus.VALID).order_by("number")[:limit])
        earlier = _before(batch, [line.number for line in lines])
        caches: dict = {"by_iban": {}, "accounts": {}, "vaults": {}}
        to_apply: list[ImportLine] = []
        planned: list[Movement | ApplicationError] = []
        for line in lines:
            if line.number in earlier:
                _record_earlier(line, earlier[line.number])
                continue
            try:
                planned.append(_movement(actor, line, caches))
            except ApplicationError as error:
                planned.append(error)
            to_apply.append(line)
        if planned:
            for line, outcome in zip(to_apply, services.movements_apply(initiator=actor, planned=planned),
                                     strict=True):
                _record(line, outcome)
        _save_results(lines)
    progress = import_progress(batch)
    if progress.finished and batch.finished_at is None:
        ImportBatch.objects.filter(pk=batch.pk, finished_at__isnull=True).update(finished_at=timezone.now())
    return progress


# --- Reading --------------------------------------------------------------------------------------


def import_batches_recent(*, limit: int = 20) -> list[ImportBatch]:
    return list(ImportBatch.objects.select_related("uploaded_by").order_by("-created_at", "-id")[:limit])


def import_batch_get(batch_id: object) -> ImportBatch:
    try:
        return ImportBatch.objects.select_related("uploaded_by").get(pk=parse_id(batch_id))
    except ImportBatch.DoesNotExist:
        raise NotFound("Import not found.") from None


def import_report_rows(batch: ImportBatch) -> Iterable[list[str]]:
    """The report's rows: the line as sent, its result and why. As they are: the CSV writer
    (core/safe_csv.py) makes every cell safe, so a reference such as `=HYPERLINK(...)` is not run
    by a spreadsheet."""
    labels = dict(ImportLineStatus.choices)
    yield ["line", *HEADER, "result", "message", "transaction"]
    for line in batch.lines.order_by("number").iterator(chunk_size=2000):
        cells = [*line.raw, *[""] * (len(HEADER) - len(line.raw))][: len(HEADER)]
        yield [str(line.number), *(str(cell) for cell in cells), str(labels[line.status]), line.message,
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
