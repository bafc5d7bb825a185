"""Statements and the money in / out chart: for each of the customer's accounts, the months that
have entries, each downloadable as CSV or PDF; below, money in and out per month over the last
twelve months, as a chart (Chart.js) with the same figures in a table."""

from __future__ import annotations

from datetime import date

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import formats
from django.views.decorators.http import require_GET

from banking.access import account_for_user, accounts_visible_to
from banking.models import CUSTOMER_KINDS
from banking.statements.exports import statement_response
from banking.statements.selectors import money_in_out_by_month, statement_months
from core.errors import ValidationFailed
from core.money import format_minor
from portal.views.customer import customer_required


def month_label(month: str) -> str:
    """"2026-10" -> "October 2026" in the active language."""
    year, number = (int(part) for part in month.split("-"))
    return formats.date_format(date(year, number, 1), "YEAR_MONTH_FORMAT")


def short_month_label(month: str) -> str:
    """"2026-10" -> "Oct 2026" (the chart's axis), in the active language."""
    year, number = (int(part) for part in month.split("-"))
    return formats.date_format(date(year, number, 1), "M Y")


def statement_context(request: HttpRequest) -> dict:
    accounts = list(accounts_visible_to(request.user).filter(kind__in=CUSTOMER_KINDS).order_by("id"))
    months = statement_months(accounts=accounts)
    rows = [
        {"account": account, "months": [(month, month_label(month)) for month in months[account.pk]]}
        for account in accounts
    ]
    chart = [
        {
            "currency": currency,
            "json_id": f"money-in-out-{currency}",
            "months": [
                {
                    "month": row["month"],
                    "label": month_label(row["month"]),
                    "short_label": short_month_label(row["month"]),
                    "money_in": format_minor(row["money_in"]),
                    "money_out": format_minor(row["money_out"]),
                    "money_in_minor": row["money_in"],
                    "money_out_minor": row["money_out"],
                }
                for row in series
            ],
        }
        for currency, series in money_in_out_by_month(customer=request.user).items()
    ]
    return {
        "statement_accounts": rows,
        "has_statements": any(row["months"] for row in rows),
        "chart": chart,
        "chart_has_figures": any(row["money_in_minor"] or row["money_out_minor"]
                                 for series in chart for row in series["months"]),
    }


@require_GET
@customer_required
def statement_page(request: HttpRequest) -> HttpResponse:
    return render(request, "portal/statements.html", statement_context(request))


@require_GET
@customer_required
def statement_download(request: HttpRequest) -> HttpResponse:
    """?account=<id>&month=YYYY-MM&format=csv|pdf: the file, or the page again with what was wrong."""
    account = account_for_user(request.user, request.GET.get("account"))
    try:
        return statement_response(
            account=account, month_param=request.GET.get("month"), format_param=request.GET.get("format")
        )
    except ValidationFailed as error:
        problems = [message for messages in error.fields.values() for message in messages]
        return render(request, "portal/statements.html", statement_context(request) | {"problems": problems},
                      status=400)
