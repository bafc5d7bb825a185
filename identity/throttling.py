"""The sign-in pages' rate per client address (/login/ and /admin/login/).

django-axes locks one username after repeated failures; that does nothing against one address
trying many usernames. The API's token endpoints are held to the `auth` rate per client address
(core/api/throttling.py's ScopedRateThrottle, FLUX_THROTTLE_AUTH, 30/min by default); the pages
count against the same rate, on the same atomic counter (the cache key for an anonymous caller,
`throttle_auth_<address>`), so an address gets one allowance whichever door it knocks at."""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from urllib.parse import urlencode

from django.contrib.auth import REDIRECT_FIELD_NAME
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from core.api.throttling import AtomicRateThrottle
from core.http import client_address


class SignInRateThrottle(AtomicRateThrottle):
    """The `auth` rate, counted per client address whoever is signed in (a signed-in customer
    posting to the admin's sign-in page is still one more attempt from that address)."""

    scope = "auth"

    def get_cache_key(self, request, view) -> str:
        return self.cache_format % {"scope": self.scope, "ident": client_address(request)}


def sign_in_rate_limited(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Count every POST to a sign-in page (an attempt, right or wrong) against the client
    address's `auth` rate. Past it, the page answers 429 with Retry-After and a page that says
    when to try again, without running the view: no password is checked, nobody is signed in,
    no session is made, no failure is counted against a username (axes) or audited. A GET (the
    form) is never counted."""

    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if request.method == "POST":
            throttle = SignInRateThrottle()
            if not throttle.allow_request(request, None):
                return too_many_attempts(request, throttle.wait())
        return view(request, *args, **kwargs)

    return wrapped


def _same_sign_in_page(request: HttpRequest) -> str:
    """Back to this sign-in page with the `next` the attempt carried (the form posts it in its body);
    the sign-in view checks it before following it, as always."""
    wanted = request.POST.get(REDIRECT_FIELD_NAME) or request.GET.get(REDIRECT_FIELD_NAME)
    return f"{request.path}?{urlencode({REDIRECT_FIELD_NAME: wanted}, safe='/')}" if wanted else request.path


def too_many_attempts(request: HttpRequest, wait: float | None) -> HttpResponse:
    # wait() is None only when the rate was lowered below what this address already used: then
    # the whole period is the honest answer.
    seconds = max(1, math.ceil(wait if wait is not None else SignInRateThrottle().duration))
    response = render(request, "identity/too_many_attempts.html", {
        "seconds": seconds,
        "minutes": math.ceil(seconds / 60),
        "sign_in_url": _same_sign_in_page(request),
    }, status=429)
    response["Retry-After"] = str(seconds)
    return response
