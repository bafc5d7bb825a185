"""camt.053 statements on the desk (/agent/clearing/statements/, supervisors): upload one, see what
became of each entry, and the statements imported before. The rules are in
banking/clearing/statements.py; the upload runs once per form token (core/idempotency.py), so a
double click or a reload imports nothing twice (and a file uploaded again is all duplicates)."""

from __future__ import annotations

import hashlib
import uuid

from django import forms
from django.conf import settings
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from banking.clearing.statement_selectors import statement_entries, statement_get, statements_recent
from banking.clearing.statements import statement_import
from core.errors import ApplicationError
from core.idempotency import run_once
from identity.decorators import staff_required

ENTRIES_PER_PAGE = 200


class StatementUploadForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("camt.053 statement (XML)"))
    confirm = forms.BooleanField(
        label=gettext_lazy("This is the correspondent bank's statement of Flux's clearing account: apply its entries."))
    token = forms.UUIDField(widget=forms.HiddenInput)


@require_http_methods(["GET", "POST"])
@staff_required(supervisor=True)
def statement_list(request: HttpRequest) -> HttpResponse:
    form = StatementUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        content = form.cleaned_data["file"].read(settings.FLUX_STATEMENT_MAX_BYTES + 1)
        try:
            outcome = run_once(
                user=request.user,
                key=f"statement:{form.cleaned_data['token'].hex}",
                fingerprint=hashlib.sha256(content).hexdigest(),
                operation=lambda: (201, {"id": statement_import(initiator=request.user, content=content).pk}),
            )
        except ApplicationError as error:
            for message in error.fields.get("file", [error.message]):
                form.add_error("file", message)
        else:
            return redirect("workspace:clearing-statement", pk=outcome.body["id"])
    status = 400 if form.is_bound and form.errors else 200
    return render(request, "workspace/clearing/statements.html", {
        "form": form,
        # A new token on every rendering: a file is chosen again anyway, and the old token may hold
        # the refusal just shown.
        "token": uuid.uuid4(),
        "statements": statements_recent(),
        "max_mb": settings.FLUX_STATEMENT_MAX_BYTES // 2**20,
        "clearing_iban": settings.FLUX_CLEARING_IBAN,
    }, status=status)


@require_http_methods(["GET"])
@staff_required(supervisor=True)
def statement_detail(request: HttpRequest, pk: str) -> HttpResponse:
    statement = statement_get(pk)
    entries = Paginator(statement_entries(statement), ENTRIES_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "workspace/clearing/statement.html", {"statement": statement, "entries": entries})
