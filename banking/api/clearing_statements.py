"""Clearing statements API (supervisors): POST clearing/statements/ takes a camt.053 statement of
Flux's clearing account as the request body (application/xml or text/xml) and applies each booked
entry once (banking.clearing.statements); GET clearing/statements/ lists the statements imported."""

from __future__ import annotations

from django.conf import settings
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_view, inline_serializer
from rest_framework import generics, serializers, status
from rest_framework.parsers import BaseParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from banking.clearing.statements import statement_import
from banking.models import Statement
from core.api.idempotency import idempotent_response
from core.api.permissions import IsSupervisor
from core.api.schema import errors, idempotent


class XMLBytesParser(BaseParser):
    """The body as it came, bytes (at most FLUX_STATEMENT_MAX_BYTES and one more: the reader
    refuses a larger file). The XML is read by banking.clearing.camt053, hardened, not here."""

    media_type = "application/xml"

    def parse(self, stream, media_type=None, parser_context=None) -> bytes:
        return stream.read(settings.FLUX_STATEMENT_MAX_BYTES + 1) if stream is not None else b""


class TextXMLBytesParser(XMLBytesParser):
    media_type = "text/xml"


def _statement_bytes(request: Request) -> bytes:
    """The statement: the body itself, or a multipart form's `file` (b"" when there is neither:
    the reader refuses an empty file)."""
    if isinstance(request.data, bytes):
        return request.data
    upload = request.FILES.get("file") if request.content_type.startswith("multipart/") else None
    return upload.read(settings.FLUX_STATEMENT_MAX_BYTES + 1) if upload is not None else b""


class StatementSerializer(serializers.ModelSerializer):
    class Meta:
        model = Statement
        fields = ["id", "entries", "credited", "returned", "suspense", "duplicates", "booked", "unmatched",
                  "version", "message_id", "statement_id", "currency", "closing_date", "uploaded_at"]
        read_only_fields = fields


STATEMENT_EXAMPLE = OpenApiExample(
    "Imported", response_only=True, status_codes=["201"],
    value={"id": 12, "entries": 5, "credited": 3, "returned": 1, "suspense": 1, "duplicates": 0, "booked": 0,
           "unmatched": 0, "version": "camt.053.001.08", "message_id": "STMT-20261128-001",
           "statement_id": "S20261128-001", "currency": "EUR", "closing_date": "2026-11-28",
           "uploaded_at": "2026-11-28T16:05:00Z"},
)


@extend_schema_view(
    get=extend_schema(
        summary="List imported statements (supervisors)",
        description="camt.053 statements imported, newest first, cursor-paginated, with what became of "
        "their entries.",
        responses={200: StatementSerializer(many=True), **errors(400, 403)},
    )
)
class StatementListCreateView(generics.ListAPIView):
    """GET: the statements imported. POST: import one (the body is the camt.053 XML)."""

    permission_classes = [IsSupervisor]
    serializer_class = StatementSerializer
    parser_classes = [XMLBytesParser, TextXMLBytesParser, MultiPartParser]

    def get_queryset(self):
        return Statement.objects.defer("file")

    @extend_schema(
        summary="Import a camt.053 statement (supervisors)",
        description="The body is a camt.053.001.02 or .001.08 statement of Flux's account at its "
        "correspondent (`Content-Type: application/xml` or `text/xml`), or the same file as the `file` field of "
        "a multipart form. Each booked entry is applied "
        "once, whatever is uploaded again (its AcctSvcrRef, else its EndToEndId): a credit to a Flux IBAN "
        "is posted to that account, a return of one of Flux's transfers credits its payer back (the "
        "transfer becomes `returned`), what cannot be placed waits in suspense, an entry applied before "
        "is a duplicate. 201 with the counts. A file that is not such a statement is 400 and changes "
        "nothing. Requires an `Idempotency-Key`.",
        request={
            "application/xml": OpenApiTypes.BINARY,
            "text/xml": OpenApiTypes.BINARY,
            "multipart/form-data": inline_serializer("StatementUpload", {"file": serializers.FileField()}),
        },
        responses={201: StatementSerializer, **errors(400, "idempotency_key_missing", 403, "idempotency_key_reused",
                                                      "unsupported_media_type")},
        parameters=idempotent(201),
        examples=[STATEMENT_EXAMPLE],
    )
    def post(self, request: Request) -> Response:
        content = _statement_bytes(request)

        def operation():
            statement = statement_import(initiator=request.user, content=content)
            return status.HTTP_201_CREATED, StatementSerializer(statement).data

        return idempotent_response(request, operation)
