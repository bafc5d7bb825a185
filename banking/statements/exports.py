"""Monthly account statements as files: CSV and PDF, and the download answer the API and the
statements page share (statement_response)."""

from __future__ import annotations

import io

from django.http import HttpResponse
from django.utils.translation import gettext as _
from fpdf import FPDF
from fpdf.enums import XPos, YPos
from fpdf.fonts import FontFace

from banking.iban import group_iban
from banking.statements.selectors import Statement, parse_month, statement_for_month
from core import safe_csv
from core.errors import ValidationFailed
from core.money import format_minor, format_money

FORMATS = {
    "csv": "text/csv; charset=utf-8",
    "pdf": "application/pdf",
}


def statement_response(*, account, month_param: object, format_param: object) -> HttpResponse:
    """Validate the month and format, then render the statement as a download. Shared by the API
    and the statements page. Errors: validation_error (month, format)."""
    errors: dict[str, list[str]] = {}
    month = None
    try:
        month = parse_month(month_param)
    except ValidationFailed as exc:
        errors |= exc.fields
    if format_param not in FORMATS:
        errors["format"] = ["Choose csv or pdf."]
    if errors:
        raise ValidationFailed(errors)
    statement = statement_for_month(account=account, month=month)
    if format_param == "csv":
        # A byte-order mark so that spreadsheets read the UTF-8 (names, references) as UTF-8.
        body: bytes = ("\ufeff" + statement_csv(statement)).encode("utf-8")
    else:
        body = statement_pdf(statement)
    response = HttpResponse(body, content_type=FORMATS[format_param])
    response["Content-Disposition"] = f'attachment; filename="{statement_filename(statement, format_param)}"'
    response["Cache-Control"] = "private, no-store"
    return response


def statement_filename(statement: Statement, extension: str) -> str:
    return f"flux-{statement.account.iban}-{statement.label}.{extension}"


# --- CSV ------------------------------------------------------------------------------------------


def statement_csv(statement: Statement) -> str:
    """The statement as CSV: a few "label, value" rows, a blank row, then one row per entry.

    Written by core/safe_csv.py: every field quoted, and every text cell (references,
    counterparties, descriptions, labels) that a spreadsheet would read as a formula neutralised.
    Amounts stay numbers: Flux writes them itself from integers (core.money.format_minor gives
    only digits, one point and an optional leading minus), and "-12.50" must remain a debit a
    spreadsheet can add up, not text. Signed amounts keep their own column, and money in and money
    out have theirs (positive numbers) for the totals."""
    buffer = io.StringIO()
    writer = safe_csv.writer(buffer)
    account = statement.account
    writer.writerows([
        [_("Account"), account.iban],
        [_("Currency"), account.currency],
        [_("Period"), statement.month.isoformat(), statement.period_end.isoformat()],
        [_("Opening balance"), format_minor(statement.opening_balance)],
        [_("Money in"), format_minor(statement.money_in)],
        [_("Money out"), format_minor(statement.money_out)],
        [_("Closing balance"), format_minor(statement.closing_balance)],
        [],
        [_("Date"), _("Description"), _("Counterparty"), _("Reference"), _("Amount"), _("Balance after"),
         _("Transaction")],
    ])
    for line in statement.lines:
        writer.writerow([
            line.booked_at.date().isoformat(),
            line.description,
            line.counterparty,
            line.reference,
            format_minor(line.amount),
            format_minor(line.balance_after),
            line.transaction_id,
        ])
    return buffer.getvalue()


# --- PDF ------------------------------------------------------------------------------------------


def _latin1(value: str) -> str:
    """The PDF uses the built-in Helvetica (nothing to ship or download), which covers Latin-1 only:
    typographic quotes and dashes become plain ones, anything else outside Latin-1 a "?"."""
    value = value.translate({0x2018: "'", 0x2019: "'", 0x201C: '"', 0x201D: '"', 0x2013: "-", 0x2014: "-",
                             0x20AC: "EUR"})
    return value.encode("latin-1", "replace").decode("latin-1")


def _money(minor: int, currency: str = "") -> str:
    """As people read it in the statement's language, grouped: "4,482.98 EUR", "4 482,98 EUR" (the
    CSV keeps plain decimals, for spreadsheets)."""
    return _latin1(format_money(minor, currency))


def _counterparty(value: str) -> str:
    """An IBAN grouped by four; a name (or "Cash") as it is."""
    compact = "".join(value.split())
    return group_iban(compact) if len(compact) >= 15 and compact[:2].isalpha() and compact[2:4].isdigit() else value


class _StatementPDF(FPDF):
    def __init__(self, statement: Statement):
        super().__init__(orientation="portrait", unit="mm", format="A4")
        self.statement = statement
        self.set_margins(15, 15, 15)
        self.set_auto_page_break(auto=True, margin=18)
        self.set_title(_latin1(_("Flux statement %(iban)s %(month)s") % {
            "iban": group_iban(statement.account.iban), "month": statement.label}))
        self.set_author("Flux")
        self.set_creator("Flux")

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font("Helvetica", size=8)
        self.set_text_color(100, 116, 139)
        self.cell(0, 5, _latin1(_("%(iban)s, %(month)s, page %(page)s of {nb}") % {
            "iban": group_iban(self.statement.account.iban), "month": self.statement.label,
            "page": self.page_no()}),
            align="C")


# Column widths (mm, 180 in all) and alignment of the entries table.
COLUMNS = [(21, "L"), (31, "L"), (48, "L"), (40, "L"), (20, "R"), (20, "R")]  # a grouped IBAN fits its column


def statement_pdf(statement: Statement) -> bytes:
    """The statement as an A4 PDF: header (bank, holder, IBAN, period), a summary box, the entries
    table (its header repeated on every page) and the totals."""
    account = statement.account
    currency = account.currency
    pdf = _StatementPDF(statement)
    pdf.add_page()

    pdf.set_font("Helvetica", "B", 20)
    pdf.set_text_color(29, 78, 216)
    pdf.cell(0, 10, "Flux", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_text_color(15, 23, 42)
    pdf.set_font("Helvetica", "B", 14)
    pdf.cell(0, 8, _latin1(_("Account statement, %(month)s") % {"month": statement.label}),
             new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font("Helvetica", size=10)
    holder = (account.customer.get_full_name() or account.customer.get_username()) if account.customer else ""
    for label, value in (
        (_("Account holder"), holder),
        (_("IBAN"), group_iban(account.iban)),
        (_("Account"), f"{account.get_kind_display()}, {currency}"),
        (_("Period"), f"{statement.month.isoformat()} - {statement.period_end.isoformat()}"),
    ):
        pdf.set_font("Helvetica", "B", 10)
        pdf.cell(35, 6, _latin1(label))
        pdf.set_font("Helvetica", size=10)
        pdf.cell(0, 6, _latin1(value), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(4)

    summary = [
        (_("Opening balance"), statement.opening_balance),
        (_("Money in"), statement.money_in),
        (_("Money out"), -statement.money_out),
        (_("Closing balance"), statement.closing_balance),
    ]
    pdf.set_fill_color(241, 245, 249)
    width = 180 / len(summary)
    pdf.set_font("Helvetica", size=8)
    for label, _amount in summary:
        pdf.cell(width, 6, _latin1(label), fill=True)
    pdf.ln()
    pdf.set_font("Helvetica", "B", 11)
    for _label, amount in summary:
        pdf.cell(width, 8, _money(amount, currency), fill=True)
    pdf.ln(12)

    headings = [_("Date"), _("Description"), _("Counterparty"), _("Reference"), _("Amount"), _("Balance")]
    if not statement.lines:
        pdf.set_font("Helvetica", "I", 10)
        pdf.cell(0, 8, _latin1(_("No entries this month.")), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    else:
        pdf.set_font("Helvetica", size=9)
        with pdf.table(
            col_widths=[width for width, _align in COLUMNS],
            text_align=tuple(align for _width, align in COLUMNS),
            headings_style=FontFace(emphasis="BOLD", fill_color=(241, 245, 249)),
            line_height=5.5,
            borders_layout="HORIZONTAL_LINES",
            repeat_headings=1,
        ) as table:
            heading = table.row()
            for title in headings:
                heading.cell(_latin1(title))
            for line in statement.lines:
                row = table.row()
                for value in (
                    line.booked_at.date().isoformat(),
                    line.description,
                    _counterparty(line.counterparty),
                    line.reference,
                    _money(line.amount),
                    _money(line.balance_after),
                ):
                    row.cell(_latin1(value))

    pdf.ln(4)
    pdf.set_font("Helvetica", "B", 10)
    for label, amount in summary[1:]:
        pdf.cell(140, 6, _latin1(label), align="R")
        pdf.cell(40, 6, _money(amount, currency), align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    return bytes(pdf.output())
