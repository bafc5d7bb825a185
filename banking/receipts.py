"""A transaction's receipt, its proof of payment: a one-page PDF (fpdf2, like the statements) with
Flux's name and BIC, the parties' names and IBANs (grouped by four), the amount grouped for the
reader's language, the transaction id, its status and times, and its reference in full. Shared by
GET /api/v1/transactions/{id}/receipt/ and the customer's transaction page (receipt_response)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.http import HttpResponse
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from fpdf import FPDF
from fpdf.enums import XPos, YPos

from banking.iban import group_iban
from banking.models import Account, AccountKind, Transaction, TransactionKind, TransactionStatus
from banking.selectors import named_as_typed
from banking.statements.exports import _latin1
from core.money import format_money


@dataclass(frozen=True)
class Party:
    name: str
    iban: str


def account_holder_name(account: Account | None) -> str:
    """The customer who holds `account`, or what Flux's own account is (the cash vault: "Cash")."""
    if account is None:
        return ""
    if account.customer_id:
        customer = account.customer
        return customer.get_full_name() or customer.get_username()
    kind = AccountKind(account.kind).label if account.kind in AccountKind.values else account.kind
    return f"{settings.FLUX_BANK_NAME} ({kind})"


# Money from another bank: the payer is who their bank named (`payer_name`; a RETURN: the payee of
# the transfer that came back) at `external_iban`, not Flux's clearing account it was booked from.
FROM_ANOTHER_BANK = (TransactionKind.INCOMING_TRANSFER, TransactionKind.RETURN)


def payer(txn: Transaction) -> Party:
    if txn.kind in FROM_ANOTHER_BANK:
        return Party(txn.payer_name, txn.external_iban)
    return Party(account_holder_name(txn.source), txn.source.iban if txn.source_id else "")


def payee(txn: Transaction) -> Party:
    if txn.kind in FROM_ANOTHER_BANK:
        return Party(account_holder_name(txn.destination), txn.destination.iban if txn.destination_id else "")
    if named_as_typed(txn):
        return Party(txn.beneficiary_name, txn.destination.iban if txn.destination_id else txn.external_iban)
    if txn.external_iban and txn.kind != TransactionKind.REVERSAL:
        # The name given with a transfer to another bank, when the transfer kept one.
        return Party(getattr(txn, "beneficiary_name", "") or "", txn.external_iban)
    return Party(account_holder_name(txn.destination), txn.destination.iban if txn.destination_id else "")


def when(at: datetime | None) -> str:
    """A time in the reader's language and the current time zone, with the zone's name."""
    if at is None:
        return "-"
    local = timezone.localtime(at)
    return f"{formats.date_format(local, 'DATETIME_FORMAT')} ({local.tzname()})"


def receipt_filename(txn: Transaction) -> str:
    return f"flux-receipt-{txn.pk}.pdf"


def receipt_pdf(txn: Transaction) -> bytes:
    """The receipt of `txn` as an A4 PDF, in the active language."""
    status = str(TransactionStatus(txn.status).label) if txn.status in TransactionStatus.values else txn.status
    kind = str(TransactionKind(txn.kind).label) if txn.kind in TransactionKind.values else txn.kind
    pdf = FPDF(orientation="portrait", unit="mm", format="A4")
    pdf.set_margins(20, 20, 20)
    pdf.set_title(_latin1(_("Flux receipt, transaction %(id)s") % {"id": txn.pk}))
    pdf.set_author(settings.FLUX_BANK_NAME)
    pdf.set_creator(settings.FLUX_BANK_NAME)
    pdf.add_page()

    pdf.set_font("Helvetica", "B", 20)
    pdf.set_text_color(29, 78, 216)
    pdf.cell(0, 10, _latin1(settings.FLUX_BANK_NAME), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_text_color(71, 85, 105)
    pdf.set_font("Helvetica", size=9)
    pdf.cell(0, 5, _latin1(_("BIC %(bic)s") % {"bic": settings.FLUX_BIC}), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(4)
    pdf.set_text_color(15, 23, 42)
    pdf.set_font("Helvetica", "B", 14)
    pdf.cell(0, 8, _latin1(_("Payment receipt")), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font("Helvetica", "B", 18)
    pdf.cell(0, 12, _latin1(format_money(txn.amount, txn.currency)), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(2)

    source, destination = payer(txn), payee(txn)
    rows = [
        (_("Transaction"), str(txn.pk)),
        (_("Type"), kind),
        (_("Status"), status),
        (_("From"), source.name),
        (_("From IBAN"), group_iban(source.iban)),
        (_("To"), destination.name or "-"),
        (_("To IBAN"), group_iban(destination.iban)),
        (_("Amount"), format_money(txn.amount, txn.currency)),
        (_("Reference"), txn.reference or "-"),
        (_("Created"), when(txn.created_at)),
    ]
    if txn.posted_at:
        rows.append((_("Posted"), when(txn.posted_at)))
    if txn.sent_at:  # a transfer to another bank, gone in a clearing run's file
        rows.append((_("Sent to the other bank"), when(txn.sent_at)))
    if txn.decided_at and txn.posted_at is None:  # rejected, cancelled or voided: when
        rows.append((status, when(txn.decided_at)))
    if txn.status == TransactionStatus.PENDING and txn.expires_at:
        rows.append((_("Expires"), when(txn.expires_at)))
    rows.append((_("Issued"), when(timezone.now())))
    for label, value in rows:
        pdf.set_font("Helvetica", "B", 10)
        pdf.cell(40, 7, _latin1(label))
        pdf.set_font("Helvetica", size=10)
        pdf.multi_cell(0, 7, _latin1(value), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(6)
    pdf.set_font("Helvetica", size=8)
    pdf.set_text_color(100, 116, 139)
    note = _("This receipt shows the transaction as %(bank)s (BIC %(bic)s) recorded it when the receipt was issued.")
    pdf.multi_cell(0, 4, _latin1(note % {"bank": settings.FLUX_BANK_NAME, "bic": settings.FLUX_BIC}))
    return bytes(pdf.output())


def receipt_response(txn: Transaction) -> HttpResponse:
    response = HttpResponse(receipt_pdf(txn), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{receipt_filename(txn)}"'
    response["Cache-Control"] = "private, no-store"
    return response
