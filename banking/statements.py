"""Monthly account statements: the figures (a selector), and the same statement as CSV and PDF.

A month is a calendar month in the bank's time zone (settings.TIME_ZONE). The opening balance is
the sum of every entry before the month, the closing balance the opening plus the month's entries,
so a statement always agrees with the ledger (balance == sum of entries)."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db.models import Q, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone
from django.utils.translation import gettext as _
from fpdf import FPDF
from fpdf.enums import XPos, YPos
from fpdf.fonts import FontFace

from banking.models import Account, Entry
from core import safe_csv
from core.errors import ValidationFailed
from core.money import format_minor

MONTH_RE = re.compile(r"\A(?P<year>[0-9]{4})-(?P<month>[0-9]{2})\Z")


@dataclass(frozen=True)
class StatementLine:
    booked_at: datetime
    description: str
    counterparty: str
    reference: str
    amount: int  # signed minor units: positive money in, negative money out
    balance_after: int
    transaction_id: int


@dataclass(frozen=True)
class Statement:
    account: Account
    month: date  # the first day of the month
    opening_balance: int
    lines: list[StatementLine]
    money_in: int
    money_out: int  # a positive number: what left the account
    closing_balance: int

    @property
    def period_end(self) -> date:
        return _next_month(self.month) - timedelta(days=1)

    @property
    def label(self) -> str:
        return self.month.strftime("%Y-%m")


def _next_month(month: date) -> date:
    return date(month.year + (month.month == 12), month.month % 12 + 1, 1)


def _month_start(month: date) -> datetime:
    return timezone.make_aware(datetime(month.year, month.month, 1))


def parse_month(value: object, *, today: date | None = None) -> date:
    """"2026-10" -> date(2026, 10, 1). Refuses anything else, and months after the current one,
    with validation_error on the field `month`."""
    match = MONTH_RE.match(value) if isinstance(value, str) else None
    today = today or timezone.localdate()
    if match is None or not 1 <= int(match.group("month")) <= 12 or int(match.group("year")) < 1900:
        raise ValidationFailed({"month": [_("Give the month as YYYY-MM, such as 2026-10.")]})
    month = date(int(match.group("year")), int(match.group("month")), 1)
    if month > today.replace(day=1):
        raise ValidationFailed({"month": [_("This month has not started yet.")]})
    return month


def statement_for_month(*, account: Account, month: date) -> Statement:
    """The account's statement for `month`: opening balance, every entry of the month oldest first
    with its balance after, money in, money out and closing balance. Three queries."""
    start, end = _month_start(month), _month_start(_next_month(month))
    opening = Entry.objects.filter(account=account, created_at__lt=start).aggregate(total=Sum("amount"))["total"] or 0
    entries = (
        Entry.objects.filter(account=account, created_at__gte=start, created_at__lt=end)
        .select_related("transaction")
        .order_by("id")
    )
    lines = [
        StatementLine(
            booked_at=timezone.localtime(entry.created_at),
            description=entry.transaction.get_kind_display(),
            counterparty=entry.counterparty,
            reference=entry.transaction.reference,
            amount=entry.amount,
            balance_after=entry.balance_after,
            transaction_id=entry.transaction_id,
        )
        for entry in entries
    ]
    money_in = sum(line.amount for line in lines if line.amount > 0)
    money_out = -sum(line.amount for line in lines if line.amount < 0)
    return Statement(
        account=account,
        month=month,
        opening_balance=opening,
        lines=lines,
        money_in=money_in,
        money_out=money_out,
        closing_balance=opening + money_in - money_out,
    )


def statement_months(*, accounts: list[Account]) -> dict[int, list[str]]:
    """For each account, the months ("YYYY-MM", newest first) in which it has entries. One query."""
    rows = (
        Entry.objects.filter(account__in=accounts)
        .annotate(month=TruncMonth("created_at"))
        .values_list("account_id", "month")
        .distinct()
        .order_by("account_id", "-month")
    )
    months: dict[int, list[str]] = {account.pk: [] for account in accounts}
    for account_id, month in rows:
        months[account_id].append(month.strftime("%Y-%m"))
    return months


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


def _money(minor: int, currency: str) -> str:
    return f"{format_minor(minor)} {currency}"


class _StatementPDF(FPDF):
    def __init__(self, statement: Statement):
        super().__init__(orientation="portrait", unit="mm", format="A4")
        self.statement = statement
        self.set_margins(15, 15, 15)
        self.set_auto_page_break(auto=True, margin=18)
        self.set_title(_latin1(_("Flux statement %(iban)s %(month)s") % {
            "iban": statement.account.iban, "month": statement.label}))
        self.set_author("Flux")
        self.set_creator("Flux")

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font("Helvetica", size=8)
        self.set_text_color(100, 116, 139)
        self.cell(0, 5, _latin1(_("%(iban)s, %(month)s, page %(page)s of {nb}") % {
            "iban": self.statement.account.iban, "month": self.statement.label, "page": self.page_no()}),
            align="C")


# Column widths (mm, 180 in all) and alignment of the entries table.
COLUMNS = [(22, "L"), (34, "L"), (44, "L"), (40, "L"), (20, "R"), (20, "R")]


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
        (_("IBAN"), account.iban),
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
                    line.counterparty,
                    line.reference,
                    format_minor(line.amount),
                    format_minor(line.balance_after),
                ):
                    row.cell(_latin1(value))

    pdf.ln(4)
    pdf.set_font("Helvetica", "B", 10)
    for label, amount in summary[1:]:
        pdf.cell(140, 6, _latin1(label), align="R")
        pdf.cell(40, 6, _money(amount, currency), align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    return bytes(pdf.output())


# --- The money in / out chart ---------------------------------------------------------------------


def money_in_out_by_month(*, customer, months: int = 12, today: date | None = None) -> dict[str, list[dict]]:
    """Money in and out per month over the last `months` months (the current one included) across
    the customer's accounts, per currency (amounts in different currencies are never added up).
    Moves between two of the customer's own accounts are neither income nor spending: left out.

    Returns {currency: [{"month": "YYYY-MM", "money_in": int, "money_out": int}, ...]}, oldest
    month first, every month present (zeros included). One query for the accounts, one for the sums."""
    today = today or timezone.localdate()
    first = today.replace(day=1)
    for _step in range(months - 1):
        first = date(first.year - (first.month == 1), (first.month - 2) % 12 + 1, 1)
    labels = []
    month = first
    for _step in range(months):
        labels.append(month.strftime("%Y-%m"))
        month = _next_month(month)

    accounts = list(Account.objects.filter(customer=customer).values_list("pk", "iban", "currency"))
    own_ibans = [iban for _pk, iban, _currency in accounts]
    currencies = sorted({currency for _pk, _iban, currency in accounts})
    rows = (
        Entry.objects.filter(account_id__in=[pk for pk, _iban, _currency in accounts],
                             created_at__gte=_month_start(first))
        .exclude(counterparty__in=own_ibans)
        .annotate(month=TruncMonth("created_at"))
        .values("month", "account__currency")
        .annotate(money_in=Sum("amount", filter=Q(amount__gt=0)), money_out=Sum("amount", filter=Q(amount__lt=0)))
        .order_by()
    )
    figures = {currency: {label: [0, 0] for label in labels} for currency in currencies}
    for row in rows:
        cell = figures[row["account__currency"]].get(row["month"].strftime("%Y-%m"))
        if cell is not None:
            cell[0] += row["money_in"] or 0
            cell[1] -= row["money_out"] or 0
    return {
        currency: [{"month": label, "money_in": cell[0], "money_out": cell[1]} for label, cell in by_month.items()]
        for currency, by_month in figures.items()
    }
