"""The installable app's two server-side pieces: the offline page that the service worker shows
when the network is gone, and the hand-over of a JWT pair to a signed-in customer's page, which
then reads the sync feed and replays the transfer outbox through the API."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.http import require_GET, require_POST

from core.errors import error_response
from identity import tokens


@require_GET
def offline(request: HttpRequest) -> HttpResponse:
    """The shell the service worker precaches and serves for any page it cannot fetch. It holds no
    one's data (it is rendered as for a signed-out visitor, so the cached copy is the same for
    everyone): offline.js fills it from IndexedDB."""
    return render(request, "portal/offline.html", {"offline_shell": True, "user": AnonymousUser()})


@never_cache
@require_POST
@csrf_protect
def token(request: HttpRequest) -> JsonResponse:
    """A JWT pair for the signed-in customer's page.

    Protected like any session form post: POST only (a GET is 405, so no link or image can fetch
    it), CSRF token required (so another site cannot make the browser ask; the CSRF check also
    refuses a foreign Origin), customers only (staff use their own pages), never cached
    (never_cache: Cache-Control no-store, private; and the service worker passes it through). The page keeps the pair
    in memory only; the access token lives FLUX_ACCESS_TOKEN_MINUTES (5 by default). The pair
    belongs to this session's token family: signing out of the pages revokes it, refresh and
    access token alike (identity.tokens)."""
    user = request.user
    if not user.is_authenticated:
        return error_response("not_authenticated", _("Sign in first."), status=401)
    if not user.is_customer:
        return error_response("permission_denied", _("Only customers use the app's offline data."), status=403)
    return JsonResponse(tokens.session_token_pair(request=request))
