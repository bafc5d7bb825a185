"""Clearing runs: the posted transfers to other banks leave, all at once, in one pain.001 file.

A transfer to another bank debits its customer and credits the clearing account of its currency
(banking.services.movements); it waits there, `posted`, until a run puts it in a file. The run
marks it `sent` (`sent_at`, `clearing_run`) and keeps the file to download again. A run is made by
a supervisor (API, desk page, `manage.py clearing_run`) or by the scheduler at the cut-off
(banking.jobs.clearing_at_cutoff, no initiator)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, Exists, OuterRef, QuerySet, Subquery, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from audit import actions
from audit.services import AuditRecord, audit_record_many
from banking.clearing.pain001 import NAME_LENGTH, REMITTANCE_LENGTH, Payment, pain001_build, sepa_text
from banking.locks import ids_filter, lock_transfers_to_clear
from banking.models import (
    LIVE_REVERSAL_STATUSES,
    Beneficiary,
    ClearingRun,
    Transaction,
    TransactionKind,
    TransactionStatus,
)
from core.errors import ApplicationError, ValidationFailed
from core.metrics import count_transactions
from core.money import format_minor
from identity.models import User
from identity.permissions import require_supervisor


def message_id_for(at: datetime) -> str:
    """A new GrpHdr/MsgId: "FLUX" and the local time to the second, then 12 random hex digits (28
    characters of the 35 allowed; the bank refuses a message id it has seen, and so does the unique
    column)."""
    return f"FLUX{timezone.localtime(at):%Y%m%d%H%M%S}{secrets.token_hex(6)}"


def creditor_name(*, beneficiary_name: str, saved_name: str | None, iban: str) -> str:
    """Who the other bank credits: the name the payer gave with the transfer, else the name of the
    payer's saved beneficiary with that IBAN, else the IBAN itself (never empty: the XSD wants a
    name). Each in SEPA characters (pain001.sepa_text); one that cleans to nothing is skipped."""
    for name in (beneficiary_name, saved_name or ""):
        cleaned = sepa_text(name, NAME_LENGTH)
        if cleaned:
            return cleaned
    return iban


def _payments(ids: list[int]) -> list[Payment]:
    """The file's payments for the locked transfers `ids`, oldest first, read in one query (the
    saved beneficiary's name by a subquery)."""
    saved = Beneficiary.objects.filter(customer=OuterRef("source__customer"), iban=OuterRef("external_iban"))
    rows = (
        Transaction.objects.filter(pk__in=ids_filter(ids))
        .annotate(saved_name=Subquery(saved.values("name")[:1]))
        .order_by("pk")
        .values_list("pk", "amount", "external_iban", "reference", "beneficiary_name", "saved_name")
    )
    return [
        Payment(
            end_to_end_id=str(pk),
            amount=amount,
            creditor_name=creditor_name(beneficiary_name=beneficiary_name, saved_name=saved_name, iban=iban),
            creditor_iban=iban,
            remittance=sepa_text(reference, REMITTANCE_LENGTH),
        )
        for pk, amount, iban, reference, beneficiary_name, saved_name in rows
    ]


def _mark_sent(ids: list[int], *, run: ClearingRun, at: datetime) -> None:
    """One UPDATE for every transfer of the run, however many."""
    table = connection.ops.quote_name(Transaction._meta.db_table)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} SET status = %s, sent_at = %s, clearing_run_id = %s WHERE id = ANY(%s)",
                [TransactionStatus.SENT.value, at, run.pk, ids],
            )
        return
    Transaction.objects.filter(pk__in=ids).update(status=TransactionStatus.SENT, sent_at=at, clearing_run=run)


def clearing_run_create(*, initiator: User | None, currency: str = "EUR", at: datetime | None = None) -> ClearingRun:
    """Send every posted transfer to another bank in `currency` that is in no file yet and has no
    pending or posted reversal, oldest first, in one new pain.001 file.

    A supervisor's (`initiator`), or the scheduler's (None). In one database transaction: the
    transfers are locked (banking.locks.lock_transfers_to_clear: two runs at once never share a
    transfer, and a transfer whose reversal is being requested or approved waits for the next
    run), the file is built and validated against its XSD (banking.clearing.pain001), kept, and
    each transfer becomes `sent` (`sent_at` = `at`, `clearing_run`) in one UPDATE. Audited as
    `clearing.run_created` on the run (count, total, currency, message_id) and one
    `transaction.sent` per transfer. No money moves: the customer was debited, and the clearing
    account credited, when the transfer posted.

    Errors: permission_denied (not a supervisor), validation_error (an unknown currency),
    nothing_to_clear (nothing waits; nothing changes, nothing is audited).
    """
    if initiator is not None:
        require_supervisor(initiator, "Only supervisors run clearing.")
    currency = (currency or "").strip().upper()
    if currency not in settings.FLUX_CURRENCIES:
        raise ValidationFailed({"currency": [_("Choose one of %(currencies)s.")
                                             % {"currencies": ", ".join(settings.FLUX_CURRENCIES)}]})
    now = at or timezone.now()
    with transaction.atomic():
        ids = lock_transfers_to_clear(currency)
        if not ids:
            raise ApplicationError(
                "nothing_to_clear",
                _("No transfer to another bank in %(currency)s is waiting to be sent.") % {"currency": currency},
            )
        payments = _payments(ids)
        total = sum(payment.amount for payment in payments)
        message_id = message_id_for(now)
        document = pain001_build(message_id=message_id, currency=currency, payments=payments, at=now)
        run = ClearingRun.objects.create(
            created_at=now,
            created_by=initiator,
            message_id=message_id,
            schema=settings.FLUX_CLEARING_SCHEMA,
            currency=currency,
            count=len(payments),
            total=total,
            file=document,
        )
        _mark_sent(ids, run=run, at=now)
        count_transactions([(TransactionKind.EXTERNAL_TRANSFER.value, TransactionStatus.SENT.value)] * len(ids))
        audit_record_many(
            [
                AuditRecord(
                    actor=initiator,
                    action=actions.CLEARING_RUN_CREATED,
                    target_type="clearing_run",
                    target_id=run.pk,
                    data={"count": run.count, "total": format_minor(total), "currency": currency,
                          "message_id": message_id, "schema": run.schema},
                ),
                *(
                    AuditRecord(
                        actor=initiator,
                        action=actions.TRANSACTION_SENT,
                        target_type="transaction",
                        target_id=payment.end_to_end_id,
                        data={"kind": TransactionKind.EXTERNAL_TRANSFER.value, "status": TransactionStatus.SENT.value,
                              "amount": format_minor(payment.amount), "currency": currency,
                              "destination": payment.creditor_iban, "clearing_run": run.pk},
                    )
                    for payment in payments
                ),
            ]
        )
        return run


# --- Selectors ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Waiting:
    """What the next clearing run of a currency would send: how many transfers, their total."""

    currency: str
    count: int
    total: int  # minor units


def clearing_waiting(*, currency: str = "EUR") -> Waiting:
    """The transfers to another bank in `currency` the next run would send (as
    banking.locks.lock_transfers_to_clear chooses them, without locking), counted (the partial
    index transaction_to_clear_idx)."""
    live = Transaction.objects.filter(reverses=OuterRef("pk"), status__in=LIVE_REVERSAL_STATUSES)
    figures = (
        Transaction.objects.filter(kind=TransactionKind.EXTERNAL_TRANSFER, status=TransactionStatus.POSTED,
                                   clearing_run__isnull=True, currency=currency)
        .exclude(Exists(live))
        .aggregate(count=Count("pk"), total=Sum("amount"))
    )
    return Waiting(currency=currency, count=figures["count"], total=figures["total"] or 0)


def clearing_run_list() -> QuerySet[ClearingRun]:
    """Every clearing run, newest first, without its file (`defer`: a file may weigh megabytes)."""
    return ClearingRun.objects.defer("file").select_related("created_by").order_by("-pk")
