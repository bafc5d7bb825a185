"""Bulk imports: a CSV of deposits, withdrawals and transfers between Flux accounts.

Two steps, so that no web request runs for minutes and a page reload loses nothing:

1. `import_create` reads the whole file, refuses it outright when it is not a CSV of the expected
   header and size, and otherwise validates every line (shape, amount, IBANs of open Flux
   accounts) and stores each one with its result: `valid` or `invalid` with the reason.
2. `import_apply_next` applies the next `limit` valid lines through the same services the counter
   and the API use (deposit_create, withdrawal_create, transfer_create). Each line goes through
   core/idempotency.py `run_once` keyed by the file's SHA-256 and the line number, so a repeated
   chunk request, a reload, or the same file uploaded again never moves money twice: a second
   upload's lines say "already applied". A service refusal (insufficient funds, an account frozen
   since validation) is that line's result, not the file's. A refusal is kept under the line's key
   like a success (run_once: the first answer is the answer), so uploading the same file again
   refuses those lines again, saying which import refused them, rather than applying them after
   the staff member, told "refused", may have settled them another way. To try a refused line
   again, send it in a new file (another file, other keys).

Keys are per user in Flux (DESIGN.md, "Idempotency"); every upload of one file uses the keys of
its first uploader (`key_owner`), so the same file uploaded by another member of staff applies
nothing twice either. Only the uploader applies a batch (they are its operations' initiator).
Keys are purged after FLUX_IDEMPOTENCY_TTL_HOURS; the import's own records are kept, so a line an
earlier upload of the file applied is reported "already applied" without asking run_once at all.
"""

from __future__ import annotations

import csv
import hashlib
import io
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _

from audit import actions
from audit.services import audit_record
from banking import services
from banking.iban import normalize_iban, parse_iban
from banking.models import Account, AccountStatus
from banking.services.common import require_staff
from core import safe_csv
from core.errors import ApplicationError, NotFound, ValidationFailed
from core.idempotency import ReplayedRefusal, fingerprint, run_once
from core.ids import parse_id
from core.money import AmountError, format_minor, parse_amount
from identity.models import User
from workspace.models import ImportBatch, ImportLine, ImportLineStatus

HEADER = ["type", "account", "amount", "counterparty", "reference"]
KINDS = ("deposit", "withdrawal", "transfer")
MAX_LINES = 10_000
MAX_BYTES = 4 * 1024 * 1024  # 10,000 lines of two IBANs, an amount and a long reference fit
CHUNK = 500
# A chunk also stops after this long, so that each request stays short whatever the database's
# commit latency (each line is its own transaction: one commit, one fsync, per line).
CHUNK_SECONDS = 5.0
REFERENCE_MAX = 140
KEY_PREFIX = "import"

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


def line_key(sha256: str, number: int) -> str:
    return f"{KEY_PREFIX}:{sha256}:{number}"


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
        ImportLine.objects.bulk_create(lines, batch_size=1000)
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


def _operation(actor: User, batch: ImportBatch, line: ImportLine):
    def operation() -> tuple[int, dict]:
        if line.kind == "transfer":
            txn = services.transfer_create(
                initiator=actor, source_account_id=line.account_id, destination_iban=line.counterparty_iban,
                amount=line.amount, reference=line.reference,
            )
        else:
            create = services.deposit_create if line.kind == "deposit" else services.withdrawal_create
            txn = create(initiator=actor, account_id=line.account_id, amount=line.amount, reference=line.reference)
        return 201, {"transaction": txn.pk, "status": txn.status, "batch": batch.pk}

    return operation


def key_owner(batch: ImportBatch) -> User:
    """Whose idempotency keys a batch's lines use: the first uploader of this very file. Keys are per
    user (run_once), and the same file uploaded by another member of staff must not apply twice
    either, so every upload of one file shares the first uploader's keys."""
    first = ImportBatch.objects.filter(sha256=batch.sha256).order_by("created_at", "id").select_related(
        "uploaded_by").first()
    return first.uploaded_by if first else batch.uploaded_by


def _applied_before(batch: ImportBatch, numbers: list[int]) -> dict[int, tuple[int, int]]:
    """Lines of this file that an earlier upload applied (or left pending): number -> (batch, transaction).

    run_once answers this while the keys are kept; the keys are purged after
    FLUX_IDEMPOTENCY_TTL_HOURS, the import's own records are not, so last month's file uploaded
    again still applies nothing twice."""
    rows = ImportLine.objects.filter(
        batch__sha256=batch.sha256, batch__id__lt=batch.pk, number__in=numbers, transaction__isnull=False,
    ).order_by("batch_id").values_list("number", "batch_id", "transaction_id")
    earlier: dict[int, tuple[int, int]] = {}
    for number, batch_id, transaction_id in rows:
        earlier.setdefault(number, (batch_id, transaction_id))
    return earlier


def _refused_before(batch: ImportBatch, number: int) -> int | None:
    """The earliest earlier upload of this file that refused line `number`, if any (run_once replays
    that refusal; within one batch a replay is of its own refusal, and says nothing more)."""
    return (
        ImportLine.objects.filter(batch__sha256=batch.sha256, batch__id__lt=batch.pk, number=number,
                                  status=ImportLineStatus.REFUSED)
        .order_by("batch_id").values_list("batch_id", flat=True).first()
    )


def _apply(actor: User, owner: User, batch: ImportBatch, line: ImportLine,
           earlier: tuple[int, int] | None = None) -> None:
    """Apply one valid line as `actor`, under `owner`'s keys, and record its result on it (not saved)."""
    if earlier is not None:
        first_batch, line.transaction_id = earlier
        line.status = ImportLineStatus.ALREADY_APPLIED
        line.message = _("Already applied by import #%(batch)s.") % {"batch": first_batch}
        return
    try:
        outcome = run_once(
            user=owner,
            key=line_key(batch.sha256, line.number),
            fingerprint=fingerprint("workspace.import", line.kind, line.account_id, line.counterparty_iban,
                                    line.amount, line.reference),
            operation=_operation(actor, batch, line),
        )
    except ApplicationError as exc:
        line.status = ImportLineStatus.REFUSED
        reason = str(REFUSALS[exc.code]()) if exc.code in REFUSALS else exc.message
        first_batch = _refused_before(batch, line.number) if isinstance(exc, ReplayedRefusal) else None
        if first_batch is not None:
            reason = _("Refused by import #%(batch)s: %(reason)s To try this line again, send it in a new file.") % {
                "batch": first_batch, "reason": reason}
        line.message = reason[:500]
        return
    line.transaction_id = outcome.body["transaction"]
    first_batch = outcome.body.get("batch")
    if outcome.replayed and first_batch != batch.pk:
        line.status = ImportLineStatus.ALREADY_APPLIED
        line.message = _("Already applied by import #%(batch)s.") % {"batch": first_batch}
    elif outcome.body["status"] == "pending":
        line.status = ImportLineStatus.PENDING
        line.message = _("Waits for a second member of staff to approve it.")
    else:
        line.status = ImportLineStatus.APPLIED
        line.message = ""


def import_apply_next(
    *, actor: User, batch_id: int, limit: int = CHUNK, seconds: float = CHUNK_SECONDS
) -> ImportProgress:
    """Apply the next `limit` valid lines of a batch (fewer if `seconds` run out first), in line
    order, and say how far it is. Each line commits on its own, so that no account stays locked
    longer than one operation and locks are always taken in the services' ascending order.

    Safe to repeat and to run twice at once: each line is idempotent (run_once), and a line replayed
    from this same batch keeps this batch's result. The first call marks the batch started.

    Errors: permission_denied (not staff, or not the uploader), not_found.
    """
    require_staff(actor)
    batch = ImportBatch.objects.filter(pk=batch_id).first()
    if batch is None:
        raise NotFound("Import not found.")
    if batch.uploaded_by_id != actor.pk:
        raise ApplicationError("permission_denied", _("Only the person who uploaded a file applies it."))
    if batch.started_at is None:
        with transaction.atomic():
            started = ImportBatch.objects.filter(pk=batch.pk, started_at__isnull=True).update(
                started_at=timezone.now())
            if started:
                audit_record(actor=actor, action=actions.IMPORT_STARTED, target_type="import", target_id=batch.pk,
                             data={"file_name": batch.file_name, "sha256": batch.sha256})
    lines = list(batch.lines.filter(status=ImportLineStatus.VALID).order_by("number")[:limit])
    owner = key_owner(batch)
    earlier = _applied_before(batch, [line.number for line in lines])
    deadline = time.monotonic() + seconds
    applied: list[ImportLine] = []
    for line in lines:
        _apply(actor, owner, batch, line, earlier.get(line.number))
        applied.append(line)
        if time.monotonic() >= deadline:
            break
    # Recorded after the lines committed: a chunk cut short here leaves them `valid`, and the
    # next chunk replays this batch's own outcomes (run_once) without moving money again.
    ImportLine.objects.bulk_update(applied, ["status", "message", "transaction"], batch_size=1000)
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
