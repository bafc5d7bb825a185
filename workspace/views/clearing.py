"""Clearing (/agent/clearing/, supervisors): what waits to leave for other banks, per currency, a
"Run clearing" button with a confirmation step, and the runs made, each file to download.

Running clearing goes through core.forms.FormOnce like the counter's cash: a token minted when the
page renders is the key of run_once, so a double click or a reload runs clearing once (the second
answer is the first run's)."""

from __future__ import annotations

import uuid

from django import forms
from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods

from banking.clearing.runs import clearing_run_create, clearing_run_list, clearing_waiting
from banking.models import ClearingRun
from core.errors import ApplicationError
from core.forms import FormOnce
from core.ids import parse_id
from core.money import format_money
from identity.decorators import staff_required
from workspace.views.common import refusal_message

TOKEN_PREFIX = "workspace-clearing:"
RUNS_SHOWN = 50


class ClearingRunForm(forms.Form):
    token = forms.UUIDField(widget=forms.HiddenInput)
    currency = forms.ChoiceField(choices=[(currency, currency) for currency in settings.FLUX_CURRENCIES])


def _render(request: HttpRequest, *, error: str = "", status: int = 200, confirm: dict | None = None) -> HttpResponse:
    waiting = [clearing_waiting(currency=currency) for currency in settings.FLUX_CURRENCIES]
    return render(request, "workspace/clearing/runs.html", {
        "waiting": [w for w in waiting if w.count],
        "runs": list(clearing_run_list()[:RUNS_SHOWN]),
        "token": uuid.uuid4(),
        "error": error,
        "confirm": confirm,
        "cutoff": settings.FLUX_CLEARING_CUTOFF,
    }, status=status)


@require_http_methods(["GET", "POST"])
@staff_required(supervisor=True)
def clearing_runs(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return _render(request)
    return _flow(request).post(request)


def _flow(request: HttpRequest) -> FormOnce:
    def render_confirm(form: ClearingRunForm) -> HttpResponse:
        data = form.cleaned_data
        waiting = clearing_waiting(currency=data["currency"])
        return _render(request, confirm={
            "currency": data["currency"], "token": data["token"], "count": waiting.count, "total": waiting.total,
        })

    def render_form(form: ClearingRunForm, status: int, error: ApplicationError | None) -> HttpResponse:
        if error is not None:
            return _render(request, error=refusal_message(error), status=status)
        return _render(request, error=_("Choose a currency to send."), status=status)

    def operation(data: dict) -> tuple[int, dict]:
        run = clearing_run_create(initiator=request.user, currency=data["currency"])
        return 201, {"run": run.pk, "count": run.count, "total": run.total, "currency": run.currency}

    def done(outcome) -> HttpResponse:
        body = outcome.body
        messages.success(request, ngettext(
            "Clearing run #%(id)s sent %(count)s transfer, %(total)s.",
            "Clearing run #%(id)s sent %(count)s transfers, %(total)s.", body["count"]) % {
            "id": body["run"], "count": body["count"], "total": format_money(body["total"], body["currency"]),
        })
        return redirect("workspace:clearing")

    return FormOnce(
        key_prefix=TOKEN_PREFIX,
        form=lambda data=None, initial=None: ClearingRunForm(data, initial=initial),
        render_form=render_form,
        render_confirm=render_confirm,
        fingerprint_parts=lambda data: ("workspace.clearing", data["currency"]),
        operation=operation,
        done=done,
    )


@require_GET
@staff_required(supervisor=True)
def clearing_run_file(request: HttpRequest, pk: str) -> HttpResponse:
    try:
        run = ClearingRun.objects.get(pk=parse_id(pk))
    except (ApplicationError, ClearingRun.DoesNotExist):
        raise Http404 from None
    response = HttpResponse(bytes(run.file), content_type="application/xml")
    response["Content-Disposition"] = f'attachment; filename="{run.file_name}"'
    return response
