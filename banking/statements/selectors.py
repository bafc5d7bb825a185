"""Monthly account statements, the figures: a month's opening and closing balances and lines, the
months an account has entries in, and money in / out per month for the chart.

A month is a calendar month in the bank's time zone (settings.TIME_ZONE). The opening balance is
the sum of every entry before the month, the closing balance the opening plus the month's entries,
so a statement always agrees with the ledger (balance == sum of entries)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db.models import Q, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone
from django.utils.translation import gettext as _

from banking.models import Account, Entry
from core.errors import ValidationFailed

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
