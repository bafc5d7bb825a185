"""Bulk imports (/agent/imports/): upload a CSV, read the validation report, apply the valid lines
chunk by chunk with a progress bar, download the report.

The page drives the work: static/js/imports.js POSTs "apply the next chunk" until the batch is
done, so no request holds for minutes and a reload resumes where the batch is. Without
JavaScript the same button applies one chunk per click. The rules are in workspace/imports/.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from core.errors import ApplicationError, error_response
from identity.decorators import staff_required
from workspace.imports.messages import for_people as messages_for_people
from workspace.imports.reader import EXAMPLE_CSV, HEADER, MAX_BYTES, MAX_LINES
from workspace.imports.report import describe_amount, import_report_csv_lines
from workspace.imports.selectors import import_batch_get, import_batches_recent, import_progress
from workspace.imports.services import CHUNK, import_apply_next, import_create
from workspace.models import ImportBatch, ImportLineStatus

LINES_PER_PAGE = 100


class UploadForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("CSV file"))


def _batch_or_404(pk: str) -> ImportBatch:
    return import_batch_get(pk)


@require_http_methods(["GET", "POST"])
@staff_required
def import_list(request: HttpRequest) -> HttpResponse:
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        content = upload.read(MAX_BYTES + 1)
        try:
            batch = import_create(uploader=request.user, file_name=upload.name, content=content)
        except ApplicationError as error:
            for message in error.fields.get("file", [error.message]):
                form.add_error("file", message)
        else:
            return redirect("workspace:import", pk=batch.pk)
    status = 400 if form.is_bound and form.errors else 200
    return render(request, "workspace/imports.html", {
        "form": form,
        "batches": import_batches_recent(),
        "header": ",".join(HEADER),
        "max_lines": MAX_LINES,
        "max_mb": MAX_BYTES // 2**20,
    }, status=status)


@require_http_methods(["GET"])
@staff_required
def import_example(request: HttpRequest) -> HttpResponse:
    response = HttpResponse(EXAMPLE_CSV, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="flux-import-example.csv"'
    return response


@require_http_methods(["GET"])
@staff_required
def import_detail(request: HttpRequest, pk: str) -> HttpResponse:
    batch = _batch_or_404(pk)
    progress = import_progress(batch)
    status_filter = request.GET.get("status", "")
    if status_filter not in ImportLineStatus.values:
        status_filter = ""
    lines = batch.lines.select_related("account").order_by("number")
    if status_filter:
        lines = lines.filter(status=status_filter)
    page = Paginator(lines, LINES_PER_PAGE).get_page(request.GET.get("page"))
    for line in page.object_list:
        line.amount_text = describe_amount(line)
        line.message = messages_for_people(line.message)  # stored in English; not saved
    counts = progress.as_json()["counts"]
    filters = [("", _("All"), batch.line_count)] + [
        (status.value, status.label, counts[status.value]) for status in ImportLineStatus if counts[status.value]
    ]
    return render(request, "workspace/import_detail.html", {
        "batch": batch,
        "progress": progress,
        "is_uploader": batch.uploaded_by_id == request.user.pk,
        "page": page,
        "status_filter": status_filter,
        "filters": filters,
        "chunk": CHUNK,
    })


@require_http_methods(["POST"])
@staff_required
def import_apply(request: HttpRequest, pk: str) -> HttpResponse:
    """Apply the next chunk. JSON for the page's script; a redirect back for a plain form post."""
    batch = _batch_or_404(pk)
    wants_json = "application/json" in request.headers.get("Accept", "")
    try:
        progress = import_apply_next(actor=request.user, batch_id=batch.pk)
    except ApplicationError as error:
        if wants_json:
            return error_response(error.code, error.message, status=error.status, fields=error.fields)
        messages.error(request, error.message)
        return redirect("workspace:import", pk=batch.pk)
    if wants_json:
        return JsonResponse(progress.as_json())
    return redirect("workspace:import", pk=batch.pk)


@require_http_methods(["GET"])
@staff_required
def import_report(request: HttpRequest, pk: str) -> HttpResponse:
    batch = _batch_or_404(pk)
    response = StreamingHttpResponse(import_report_csv_lines(batch), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="flux-import-{batch.pk}-report.csv"'
    return response
