"""The customer's notifications: the page (newest first, mark one or all read) and the event stream
the bell and the page listen to (notifications/live.py: server-sent events, under ASGI)."""

from __future__ import annotations

from django.core.handlers.asgi import ASGIRequest
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import translation
from django.views.decorators.http import require_GET, require_POST

from core.decorators import refuse_unless
from core.errors import error_response
from core.ids import parse_id
from notifications import selectors, services
from notifications.live import notification_item, notification_stream, parse_last_id
from portal.views.customer import customer_required

PAGE_SIZE = 30


@require_GET
@customer_required
def notification_list(request: HttpRequest) -> HttpResponse:
    notifications = selectors.notifications_for(request.user)
    before = request.GET.get("before", "")
    if before:
        notifications = notifications.filter(pk__lt=parse_id(before))
    page = list(notifications[: PAGE_SIZE + 1])
    older = page[PAGE_SIZE - 1].pk if len(page) > PAGE_SIZE else None
    response = render(request, "portal/notifications.html", {
        "has_unread": selectors.unread_count(request.user) > 0,
        # The time as a datetime: the template formats it for the page's language.
        "items": [notification_item(n) | {"created_at": n.created_at, "unread": n.is_unread} for n in page[:PAGE_SIZE]],
        "older_url": f"{request.path}?before={older}" if older else "",
        "is_first_page": not before,
    })
    response["Cache-Control"] = "no-store"
    return response


@require_POST
@customer_required
def notification_read(request: HttpRequest, pk: str) -> HttpResponse:
    services.notification_mark_read(customer=request.user, notification_id=pk)
    return redirect("portal:notifications")


@require_POST
@customer_required
def notification_read_all(request: HttpRequest) -> HttpResponse:
    services.notifications_mark_all_read(customer=request.user)
    return redirect("portal:notifications")


def _stream_refusal(request: HttpRequest, user) -> HttpResponse | None:
    # A script's request: an answer it can read, never a sign-in page.
    if not user.is_authenticated:
        return error_response("not_authenticated", "Sign in first.")
    if not user.is_customer:
        return error_response("permission_denied", "Only customers have notifications.")
    return None


@require_GET
@refuse_unless(_stream_refusal)
async def notification_events(request: HttpRequest) -> StreamingHttpResponse:
    """Server-sent events of the signed-in customer's notifications after Last-Event-ID (or `after`,
    the newest one the page showed). Needs ASGI: under WSGI (a development server) a stream would hold
    a worker thread for as long as the page is open, so it answers 204, which tells EventSource
    not to come back; the bell still counts from the database on every page."""
    if not isinstance(request, ASGIRequest):
        return HttpResponse(status=204)
    after_id = parse_last_id(request.headers.get("Last-Event-ID") or request.GET.get("after"))
    response = StreamingHttpResponse(
        notification_stream(customer_id=request.user.pk, after_id=after_id, language=translation.get_language()),
        content_type="text/event-stream",
    )
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"
    return response
