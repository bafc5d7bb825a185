"""Bulk imports over the API (staff), the same as /agent/imports/: send a CSV (text/csv body), read
its validation report, apply the valid lines chunk by chunk, download the result. The rules are in
workspace/imports/; each line is applied at most once, whoever uploads the file again."""

from __future__ import annotations

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field, extend_schema_view
from rest_framework import generics, serializers, status
from rest_framework.parsers import BaseParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api.pagination import IdCursorPagination
from core.api.permissions import IsBankStaff
from core.api.schema import errors
from core.errors import ValidationFailed
from core.money import format_minor
from workspace.imports.reader import MAX_BYTES
from workspace.imports.report import import_report_csv_lines
from workspace.imports.selectors import import_batch_get, import_progress, import_progress_many
from workspace.imports.services import import_apply_next, import_create
from workspace.models import ImportBatch, ImportLine, ImportLineStatus


class CsvParser(BaseParser):
    """A text/csv body, read whole (at most MAX_BYTES + 1 bytes) as bytes."""

    media_type = "text/csv"

    def parse(self, stream, media_type=None, parser_context=None) -> bytes:
        return stream.read(MAX_BYTES + 1) if stream is not None else b""


class LineNumberPagination(IdCursorPagination):
    ordering = "number"


class ProgressSerializer(serializers.Serializer):
    total = serializers.IntegerField()
    done = serializers.IntegerField()
    percent = serializers.IntegerField()
    finished = serializers.BooleanField()
    counts = serializers.DictField(child=serializers.IntegerField(),
                                   help_text="Lines per status: " + ", ".join(ImportLineStatus.values))


class ImportBatchSerializer(serializers.ModelSerializer):
    uploaded_by = serializers.IntegerField(source="uploaded_by_id", read_only=True)
    progress = serializers.SerializerMethodField()

    class Meta:
        model = ImportBatch
        fields = ["id", "file_name", "sha256", "line_count", "uploaded_by", "created_at", "started_at",
                  "finished_at", "progress"]
        read_only_fields = fields

    @extend_schema_field(ProgressSerializer)
    def get_progress(self, batch: ImportBatch) -> dict:
        # A list passes every batch's progress, read at once (import_progress_many).
        known = self.context.get("progress", {})
        progress = known[batch.pk] if batch.pk in known else import_progress(batch)
        return progress.as_json()


class ImportLineSerializer(serializers.ModelSerializer):
    account = serializers.IntegerField(source="account_id", read_only=True, allow_null=True)
    amount = serializers.SerializerMethodField()
    transaction = serializers.IntegerField(source="transaction_id", read_only=True, allow_null=True)

    class Meta:
        model = ImportLine
        fields = ["number", "raw", "status", "message", "kind", "account", "counterparty_iban", "amount",
                  "reference", "transaction"]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.STR)
    def get_amount(self, line: ImportLine) -> str | None:
        return format_minor(line.amount) if line.amount is not None else None


@extend_schema_view(get=extend_schema(summary="List bulk imports (staff)",
                                      responses={200: ImportBatchSerializer(many=True), **errors(400, 403)}))
class ImportListCreateView(generics.ListAPIView):
    """GET: imports, newest first. POST: send a CSV file as the body (`Content-Type: text/csv`,
    header `type,account,amount,counterparty,reference`, at most 10,000 lines and 4 MB); every line
    is checked and nothing is applied yet. 201 with the batch and its per-status counts."""

    permission_classes = [IsBankStaff]
    serializer_class = ImportBatchSerializer
    queryset = ImportBatch.objects.select_related("uploaded_by")

    def paginate_queryset(self, queryset):
        page = super().paginate_queryset(queryset)
        self.progress = import_progress_many(page or [])
        return page

    def get_serializer_context(self) -> dict:
        return super().get_serializer_context() | {"progress": getattr(self, "progress", {})}

    def get_parsers(self):
        if self.request is not None and self.request.method == "POST":
            return [CsvParser()]
        return super().get_parsers()

    @extend_schema(
        summary="Upload a bulk import (staff)",
        request={"text/csv": OpenApiTypes.BINARY},
        parameters=[OpenApiParameter("file_name", str, description="A name to show for the file (optional).")],
        responses={201: ImportBatchSerializer, **errors(400, 403)},
    )
    def post(self, request: Request) -> Response:
        content = request.data if isinstance(request.data, bytes) else b""
        file_name = request.query_params.get("file_name", "")
        batch = import_create(uploader=request.user, file_name=file_name, content=content)
        return Response(ImportBatchSerializer(batch).data, status=status.HTTP_201_CREATED)


class ImportDetailView(APIView):
    permission_classes = [IsBankStaff]

    @extend_schema(summary="One bulk import (staff)", responses={200: ImportBatchSerializer, **errors(403, 404)})
    def get(self, request: Request, pk: str) -> Response:
        return Response(ImportBatchSerializer(import_batch_get(pk)).data)


class ImportLineListView(generics.ListAPIView):
    """A batch's lines in file order, with their result; `?status=` keeps one status."""

    permission_classes = [IsBankStaff]
    serializer_class = ImportLineSerializer
    pagination_class = LineNumberPagination

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return ImportLine.objects.none()
        batch = import_batch_get(self.kwargs["pk"])
        lines = batch.lines.all()
        wanted = self.request.query_params.get("status")
        if wanted is not None:
            if wanted not in ImportLineStatus.values:
                raise ValidationFailed({"status": [f"Use one of: {', '.join(ImportLineStatus.values)}."]})
            lines = lines.filter(status=wanted)
        return lines

    @extend_schema(summary="A bulk import's lines (staff)",
                   parameters=[OpenApiParameter("status", str, enum=ImportLineStatus.values)],
                   responses={200: ImportLineSerializer(many=True), **errors(400, 403, 404)})
    def get(self, request: Request, *args, **kwargs) -> Response:
        return super().get(request, *args, **kwargs)


class ImportApplyView(APIView):
    """Apply the next chunk of valid lines (at most 1,000, in one database transaction) and say how far the
    batch is; call again until `finished`. Only the uploader applies a batch. Safe to repeat."""

    permission_classes = [IsBankStaff]

    @extend_schema(summary="Apply the next chunk of a bulk import (staff)", request=None,
                   responses={200: ProgressSerializer, **errors(403, 404)})
    def post(self, request: Request, pk: str) -> Response:
        batch = import_batch_get(pk)
        return Response(import_apply_next(actor=request.user, batch_id=batch.pk).as_json())


class ImportReportView(APIView):
    """The report as CSV: each line as sent, its result, why, and its transaction."""

    permission_classes = [IsBankStaff]

    @extend_schema(summary="A bulk import's report as CSV (staff)",
                   responses={(200, "text/csv"): OpenApiTypes.STR, **errors(403, 404)})
    def get(self, request: Request, pk: str) -> HttpResponse:
        batch = import_batch_get(pk)
        response = HttpResponse("".join(import_report_csv_lines(batch)), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="flux-import-{batch.pk}-report.csv"'
        return response
