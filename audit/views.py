"""The staff dashboards (supervisors): the audit log with its live tail, the NATS dashboard and the
performance page.
Pages redirect an anonymous visitor to the sign-in page and show a 403 page to other roles; their
JSON and event-stream endpoints answer 401/403 instead (a script cannot follow a sign-in page)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from urllib.parse import urlencode

from asgiref.sync import async_to_sync
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from audit.chain import verify
from audit.live import live_tail, parse_last_event_id, record_row
from audit.monitoring import nats_status
from audit.performance import performance_status
from audit.selectors import FILTER_NAMES, active_filters, audit_log_page, newest_seq, parse_cursor
from core.decorators import refuse_unless
from core.errors import error_response


def _refusal(request: HttpRequest, user, *, page: bool) -> HttpResponse | None:
    if user.is_authenticated and user.is_supervisor:
        return None
    if page and not user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if page:
        return render(request, "audit/forbidden.html", status=403)
    if not user.is_authenticated:
        return error_response("not_authenticated", _("Sign in first."))
    return error_response("permission_denied", _("Only supervisors may do this."))


def supervisor_required(*, page: bool) -> Callable:
    """Let supervisors through; works for sync and async views (core.decorators)."""
    return refuse_unless(functools.partial(_refusal, page=page))


@require_GET
@supervisor_required(page=True)
def audit_log(request: HttpRequest) -> HttpResponse:
    before = parse_cursor(request.GET.get("before"))
    page = audit_log_page(params=request.GET, before=before)
    filters = active_filters(request.GET)
    older_url = f"?{urlencode(filters | {'before': page.older})}" if page.older else ""
    stream_url = reverse("staff-audit-stream")
    # The tail starts after the newest row shown (or, when nothing matches, after the newest record
    # of the whole log), so nothing is shown twice and nothing committed since is missed.
    stream_params = filters | {"last_event_id": page.newest_seq or newest_seq()}
    return render(request, "audit/log.html", {
        "page": page,
        "rows": [record_row(record) for record in page.records],
        "form": page.filterset.form,
        "filters": filters,
        "filter_names": FILTER_NAMES,
        "is_newest_page": before is None,
        "older_url": older_url,
        "newest_url": f"?{urlencode(filters)}" if filters else request.path,
        "stream_url": f"{stream_url}?{urlencode(stream_params)}",
        "verify_url": reverse("staff-audit-verify"),
    })


@require_GET
@never_cache
@supervisor_required(page=False)
def audit_verify(request: HttpRequest) -> JsonResponse:
    """The chain badge's figures. Verifying reads the whole log, so the page fetches it apart."""
    verdict = verify()
    return JsonResponse({"ok": verdict.ok, "checked": verdict.checked, "first_bad": verdict.first_bad,
                         "reason": verdict.reason})


@require_GET
@supervisor_required(page=False)
async def audit_stream(request: HttpRequest) -> StreamingHttpResponse:
    """Server-sent events: the records after Last-Event-ID (the header a reconnecting EventSource
    sends, or `last_event_id` for the first connection), then the live tail. Needs ASGI."""
    last_seq = parse_last_event_id(request.headers.get("Last-Event-ID") or request.GET.get("last_event_id"))
    response = StreamingHttpResponse(
        live_tail(last_seq=last_seq, params=request.GET.copy()), content_type="text/event-stream"
    )
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"  # a proxy must pass each event on at once
    return response


@require_GET
@supervisor_required(page=True)
def nats_dashboard(request: HttpRequest) -> HttpResponse:
    status = async_to_sync(nats_status)()
    # Shown in the bank's time zone, as the page's script then shows each refresh (lib/when.js).
    checked_at = parse_datetime(status["checked_at"])
    return render(request, "audit/nats.html", {"status": status, "checked_at": checked_at,
                                               "status_url": reverse("staff-nats-status")})


@require_GET
@never_cache
@supervisor_required(page=False)
async def nats_status_json(request: HttpRequest) -> JsonResponse:
    return JsonResponse(await nats_status())


# The performance page's summary: (label, the figure in static/js/performance.js's `summary`).
SUMMARY_CARDS = [
    (gettext_lazy("Requests / s"), "requests"),
    (gettext_lazy("Latency p99"), "p99"),
    (gettext_lazy("Server errors"), "errors"),
    (gettext_lazy("Transfers / s"), "transfers"),
    (gettext_lazy("Outbox backlog"), "backlog"),
    (gettext_lazy("Consumer lag"), "lag"),
]


@require_GET
@supervisor_required(page=True)
def performance(request: HttpRequest) -> HttpResponse:
    """Live figures of every process (audit/performance.py): the page polls performance.json."""
    return render(request, "audit/performance.html", {
        "status": performance_status(), "status_url": reverse("staff-performance-status"),
        "summary_cards": SUMMARY_CARDS,
    })


@require_GET
@never_cache
@supervisor_required(page=False)
def performance_json(request: HttpRequest) -> JsonResponse:
    return JsonResponse(performance_status())
