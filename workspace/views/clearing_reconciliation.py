"""Reconciliation on the desk (supervisors): the recent days, each summed up (statement net, Flux
net, difference, balance check), with the clearing account's balance and what makes it up; and one
day's two sides, matched and unmatched, differences highlighted. The figures are
banking.clearing.reconciliation's (its docstring defines them)."""

from __future__ import annotations

import datetime as dt

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from banking.clearing.reconciliation import clearing_position, reconciliation_day, reconciliation_days
from identity.decorators import staff_required

PER_PAGE = 30


def _currency(request: HttpRequest) -> str:
    currency = (request.GET.get("currency") or "EUR").upper()
    return currency if len(currency) == 3 and currency.isalpha() else "EUR"


def _date_or_none(value: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        return None


@require_GET
@staff_required(supervisor=True)
def reconciliation_list(request: HttpRequest) -> HttpResponse:
    currency = _currency(request)
    days, more = reconciliation_days(currency=currency, before=_date_or_none(request.GET.get("before")),
                                     limit=PER_PAGE)
    return render(request, "workspace/clearing/reconciliation.html", {
        "currency": currency, "days": days, "more": more, "older": days[-1].date.isoformat() if more else "",
        "position": clearing_position(currency=currency),
    })


@require_GET
@staff_required(supervisor=True)
def reconciliation_day_page(request: HttpRequest, day: str) -> HttpResponse:
    date = _date_or_none(day)
    if date is None:
        raise Http404
    currency = _currency(request)
    return render(request, "workspace/clearing/reconciliation_day.html", {
        "currency": currency, "figure": reconciliation_day(day=date, currency=currency),
        "position": clearing_position(currency=currency),
    })
