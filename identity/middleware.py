"""Staff pages refuse a staff session that has not given its second factor (FLUX_REQUIRE_2FA).

One place for every staff area (/agent/, the workspace; /staff/, the dashboards; /admin/), whatever
decorator their views use. Installed after django-otp's OTPMiddleware, which says whether the
session is verified."""

from __future__ import annotations

from urllib.parse import urlencode

from asgiref.sync import iscoroutinefunction, markcoroutinefunction, sync_to_async
from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext as _

from core.errors import error_response

# /admin/ too: its own sign-in page takes only the password.
STAFF_PREFIXES = ("/agent/", "/staff/", "/admin/")


def second_factor_refusal(request: HttpRequest, user) -> HttpResponse | None:
    """None when `user` may go on; for a staff member who must and has not yet given a code in
    this session: the enrolment page (no confirmed device yet) or the code page, then back here.
    A request that does not want a page (JSON, event stream) gets a 403 in the API's shape."""
    from identity import two_factor  # django-otp's models: only once the apps are loaded

    if not (user.is_authenticated and two_factor.two_factor_required(user)):
        return None
    if two_factor.session_verified(request, user):
        return None
    if not request.accepts("text/html") or request.headers.get("accept", "").startswith("application/json"):
        return error_response("otp_required", _("Give your two-factor code on the sign-in page first."), status=403)
    step = "2fa-verify" if two_factor.confirmed_device(user) else "2fa-setup"
    return HttpResponseRedirect(f"{reverse(step)}?{urlencode({'next': request.get_full_path()})}")


class StaffTwoFactorMiddleware:
    sync_capable = True
    async_capable = True

    def __init__(self, get_response):
        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)

    @staticmethod
    def applies(request: HttpRequest) -> bool:
        return settings.FLUX_REQUIRE_2FA and request.path_info.startswith(STAFF_PREFIXES)

    def __call__(self, request: HttpRequest):
        if self.is_async:
            return self.__acall__(request)
        if self.applies(request):
            refusal = second_factor_refusal(request, request.user)
            if refusal is not None:
                return refusal
        return self.get_response(request)

    async def __acall__(self, request: HttpRequest):
        if self.applies(request):
            user = await request.auser()
            refusal = await sync_to_async(second_factor_refusal)(request, user)
            if refusal is not None:
                return refusal
        return await self.get_response(request)
