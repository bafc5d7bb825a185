"""Clearing runs API (supervisors): POST clearing/runs/ sends the transfers to other banks that
wait in one pain.001 file, GET clearing/runs/ lists the runs, GET clearing/runs/{id}/file/ gives a
run's file again (banking/clearing/runs.py)."""

from __future__ import annotations

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import generics, serializers, status
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from banking.clearing.runs import clearing_run_create, clearing_run_list
from banking.models import ClearingRun
from core.api.fields import AmountField
from core.api.idempotency import idempotent_response
from core.api.permissions import IsSupervisor
from core.api.schema import errors, idempotent
from core.api.serializers import validated
from core.errors import NotFound
from core.ids import parse_id


class ClearingRunSerializer(serializers.ModelSerializer):
    total = AmountField(read_only=True, help_text="CtrlSum: the sum of the run's transfers, in `currency`.")
    count = serializers.IntegerField(read_only=True, help_text="NbOfTxs: how many transfers the file carries.")

    class Meta:
        model = ClearingRun
        fields = ["id", "created_at", "count", "total", "currency"]
        read_only_fields = fields


class ClearingRunCreateSerializer(serializers.Serializer):
    currency = serializers.CharField(required=False, default="EUR", max_length=3,
                                     help_text="The currency whose transfers leave (default EUR).")


RUN_EXAMPLE = {"id": 12, "created_at": "2026-11-27T15:00:04.512Z", "count": 318, "total": "48210.75",
               "currency": "EUR"}


@extend_schema_view(
    get=extend_schema(
        summary="List clearing runs (supervisors)",
        description="Every clearing run, newest first, cursor-paginated.",
        responses={200: ClearingRunSerializer(many=True), **errors(403)},
    )
)
class ClearingRunListCreateView(generics.ListAPIView):
    """GET: the clearing runs, newest first. POST: send what waits in a new pain.001 file."""

    permission_classes = [IsSupervisor]
    serializer_class = ClearingRunSerializer

    def get_queryset(self):
        return clearing_run_list()

    @extend_schema(
        summary="Run clearing (supervisors)",
        description="Every posted transfer to another bank in `currency` not yet sent (and not being "
        "reversed) leaves, oldest first, in one pain.001.001.09 file, and becomes `sent`. 422 "
        "`nothing_to_clear` when none waits (nothing changes). Requires an `Idempotency-Key`.",
        request=ClearingRunCreateSerializer,
        responses={201: ClearingRunSerializer,
                   **errors(400, "idempotency_key_missing", 403, "nothing_to_clear", "idempotency_key_reused")},
        parameters=idempotent(201),
        examples=[OpenApiExample("run", value=RUN_EXAMPLE, response_only=True, status_codes=["201"])],
    )
    def post(self, request: Request) -> Response:
        def operation():
            params = validated(ClearingRunCreateSerializer, request.data)
            run = clearing_run_create(initiator=request.user, currency=params["currency"])
            return status.HTTP_201_CREATED, ClearingRunSerializer(run).data

        return idempotent_response(request, operation)


class ClearingRunFileView(APIView):
    """The pain.001 file of one run, as it was sent."""

    permission_classes = [IsSupervisor]

    def perform_content_negotiation(self, request, force=False):
        # The file is an HttpResponse (XML): only errors go through a renderer, as JSON.
        renderer = JSONRenderer()
        return renderer, renderer.media_type

    @extend_schema(
        summary="Download a clearing run's pain.001 file (supervisors)",
        responses={(200, "application/xml"): OpenApiResponse(OpenApiTypes.BINARY, description="The XML file."),
                   **errors(403, 404)},
    )
    def get(self, request: Request, pk: str) -> HttpResponse:
        run = ClearingRun.objects.filter(pk=parse_id(pk)).first()
        if run is None:
            raise NotFound("Clearing run not found.")
        response = HttpResponse(bytes(run.file), content_type="application/xml")
        response["Content-Disposition"] = f'attachment; filename="{run.file_name}"'
        return response
