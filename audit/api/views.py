from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import generics
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from audit.api import examples
from audit.api.filters import AuditLogFilter
from audit.api.serializers import AuditLogRecordSerializer, VerdictSerializer
from audit.chain import verify
from audit.models import AuditLogRecord
from core.api.pagination import IdCursorPagination
from core.api.permissions import IsSupervisor
from core.api.schema import errors


class SeqCursorPagination(IdCursorPagination):
    ordering = "-seq"


@extend_schema_view(
    get=extend_schema(
        summary="The audit log (supervisors)",
        responses={200: AuditLogRecordSerializer(many=True), **errors(400, 403)},
        examples=examples.AUDIT_EVENT_EXAMPLES,
    )
)
class AuditEventListView(generics.ListAPIView):
    """The audit log, newest first (supervisors). Filters: actor, action, target_type, target_id, from, to."""

    permission_classes = [IsSupervisor]
    serializer_class = AuditLogRecordSerializer
    filterset_class = AuditLogFilter
    pagination_class = SeqCursorPagination
    queryset = AuditLogRecord.objects.all()


class AuditVerifyView(APIView):
    """Recompute the hash chain: {ok, checked, first_bad}."""

    permission_classes = [IsSupervisor]

    @extend_schema(summary="Verify the audit log's hash chain (supervisors)",
                   responses={200: VerdictSerializer, **errors(403)}, examples=examples.VERDICT_EXAMPLES)
    def get(self, request: Request) -> Response:
        verdict = verify()
        return Response(VerdictSerializer(verdict).data)
