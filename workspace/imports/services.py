"""The import's two steps (workspace/imports/__init__.py): import_create stores a file's lines with
their checks; import_apply_next applies the next chunk of valid lines through the batch path."""

from __future__ import annotations

import hashlib

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit import actions
from audit.services import audit_record
from banking import services
from banking.models import TransactionKind
from banking.services.batches import BatchOutcome
from banking.services.movements import Movement
from core.db.insert import insert_all
from core.errors import ApplicationError, ErrorCode, NotFound, ValidationFailed
from identity.models import User
from identity.permissions import require_staff
from workspace.imports.messages import in_english
from workspace.imports.reader import (
    MAX_BYTES,
    MAX_LINES,
    FileAccounts,
    read_rows,
    validate_line,
)
from workspace.imports.selectors import ImportProgress, first_upload, import_progress
from workspace.models import ImportBatch, ImportLine, ImportLineStatus

CHUNK = 1000


# The refusals the report says in a person's words (each code's sentence, core.errors.ErrorCode);
# other codes show the service's message.
SAID_FOR_A_PERSON = frozenset({ErrorCode.INSUFFICIENT_FUNDS, ErrorCode.ACCOUNT_FROZEN, ErrorCode.ACCOUNT_CLOSED})


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
    rows = list(read_rows(content))
    if not rows:
        raise ValidationFailed({"file": [_("The file has a header but no operations.")]})
    if len(rows) > MAX_LINES:
        raise ValidationFailed({"file": [
            _("The file has %(count)d operations; send at most %(max)d per file.") % {
                "count": len(rows), "max": MAX_LINES}
        ]})
    accounts = FileAccounts.load(rows)
    with in_english():  # stored in English, shown in the reader's language (imports/messages.py)
        lines = [validate_line(number, row, accounts) for number, row in rows]
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
        line.message = (str(exc.code.message) if exc.code in SAID_FOR_A_PERSON else exc.message)[:500]
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
        # The lines' messages are stored in English, shown in the reader's language (imports/messages.py).
        with in_english():
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
