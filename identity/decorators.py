"""Who may open a staff page (the workspace under /agent/, the dashboards under /staff/)."""

from __future__ import annotations

import functools
from collections.abc import Callable

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from core.decorators import refuse_unless
from identity.middleware import second_factor_refusal


def staff_refusal(request: HttpRequest, user, *, supervisor: bool = False) -> HttpResponse | None:
    """None when `user` may open a staff page; otherwise the answer to give instead: a signed-out
    visitor goes to the sign-in page (and back after), a customer (or an agent on a supervisor's
    page) gets the 403 page, and, when FLUX_REQUIRE_2FA is on, a staff session that has not given
    its TOTP code goes to the enrolment or code page (identity.middleware does the same for every
    page under /agent/ and /staff/)."""
    if not user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if not user.is_bank_staff or (supervisor and not user.is_supervisor):
        return render(request, "identity/forbidden.html", {"supervisor_only": supervisor}, status=403)
    return second_factor_refusal(request, user)


def staff_required(view: Callable | None = None, *, supervisor: bool = False) -> Callable:
    """Bank staff through (only supervisors with `supervisor=True`). Use as `@staff_required` or
    `@staff_required(supervisor=True)`; works on sync and async views (core.decorators)."""
    decorate = refuse_unless(functools.partial(staff_refusal, supervisor=supervisor))
    return decorate(view) if view is not None else decorate
