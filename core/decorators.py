"""Who may open a page: the one way the apps' page decorators wrap a view, sync or async."""

from __future__ import annotations

import functools
from collections.abc import Callable

from asgiref.sync import iscoroutinefunction, sync_to_async
from django.http import HttpRequest, HttpResponse

# Given the request and its user: None to let the view answer, or the answer to give instead
# (the sign-in page, a 403 page, a JSON error).
Refusal = Callable[[HttpRequest, object], HttpResponse | None]


def refuse_unless(refusal: Refusal) -> Callable[[Callable], Callable]:
    """A view decorator that asks `refusal` first. On an async view the user is loaded without a
    synchronous query (request.auser()) and set on the request, where templates read it, and the
    refusal runs on a thread."""

    def decorate(view: Callable) -> Callable:
        if iscoroutinefunction(view):
            @functools.wraps(view)
            async def async_view(request: HttpRequest, *args, **kwargs) -> HttpResponse:
                user = await request.auser()
                request.user = user
                # On a thread: a refusal may render a page, whose navigation reads the database
                # (the customer's notification bell).
                return await sync_to_async(refusal)(request, user) or await view(request, *args, **kwargs)

            return async_view

        @functools.wraps(view)
        def sync_view(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            return refusal(request, request.user) or view(request, *args, **kwargs)

        return sync_view

    return decorate
