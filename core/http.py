"""Who is the client: one answer for the API's rate limits, the sign-in pages' rate and the
lockout's records (django-axes)."""

from __future__ import annotations

from django.http import HttpRequest
from rest_framework.throttling import BaseThrottle


def client_address(request: HttpRequest) -> str | None:
    """The client's address: the connecting address (REMOTE_ADDR) when FLUX_NUM_PROXIES is 0;
    behind N trusted proxies, the N-th address from the right of X-Forwarded-For (the one the
    outermost trusted proxy saw; what the client wrote to the left of it is ignored).

    This is DRF's own rule (its NUM_PROXIES setting, BaseThrottle.get_ident), which the API's
    throttles use, so every counter agrees on who is who. It relies on the web server leaving
    REMOTE_ADDR alone: bin/web starts uvicorn and gunicorn without their proxy-header rewriting,
    which would otherwise replace it with a forwarded address (and then N would count twice)."""
    return BaseThrottle().get_ident(request)
