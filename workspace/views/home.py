"""The desk's home (/agent/): customer search as you type, and the way to what waits."""

from __future__ import annotations

from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from banking.models import Account
from banking.selectors import customer_search, pending_approvals
from identity.decorators import staff_required

RESULTS = 20
MIN_QUERY = 2


def search_results(query: str) -> list:
    """At most RESULTS customers, each with their accounts: two queries whatever the number."""
    query = query.strip()
    if len(query) < MIN_QUERY:
        return []
    customers = (
        customer_search(query=query)
        .order_by("last_name", "first_name", "id")
        .prefetch_related(Prefetch("accounts", queryset=Account.objects.order_by("id")))
    )
    return list(customers[:RESULTS])


@require_GET
@staff_required
def home(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "").strip()[:100]
    return render(request, "workspace/home.html", {
        "query": query,
        "customers": search_results(query),
        "searched": len(query) >= MIN_QUERY,
        "min_query": MIN_QUERY,
        "pending_count": pending_approvals().count(),
    })


@require_GET
@staff_required
def search(request: HttpRequest) -> HttpResponse:
    """The results list alone (an HTML fragment), for the search box's as-you-type fetches."""
    query = request.GET.get("q", "").strip()[:100]
    return render(request, "workspace/_search_results.html", {
        "query": query,
        "customers": search_results(query),
        "searched": len(query) >= MIN_QUERY,
        "min_query": MIN_QUERY,
    })
