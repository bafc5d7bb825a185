"""Beneficiaries API: a customer's saved IBANs (GET/POST beneficiaries/, PATCH/DELETE
beneficiaries/{id}/). Customers see and change only their own; anyone else's is not found."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import generics, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from banking import services
from banking.access import beneficiaries_visible_to, beneficiary_for_user
from banking.api import examples
from banking.models import Beneficiary
from core.api.schema import errors


class BeneficiarySerializer(serializers.ModelSerializer):
    class Meta:
        model = Beneficiary
        fields = ["id", "name", "iban", "created_at"]
        read_only_fields = fields


class BeneficiaryCreateSerializer(serializers.Serializer):
    # Shape only; the service trims the name, checks the IBAN and refuses duplicates.
    name = serializers.CharField(max_length=200, trim_whitespace=False)
    iban = serializers.CharField(max_length=64, help_text="Spaces and lower case are accepted.")


class BeneficiaryRenameSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200, trim_whitespace=False)


@extend_schema_view(
    get=extend_schema(summary="List your beneficiaries", tags=["beneficiaries"],
                      responses={200: BeneficiarySerializer(many=True), **errors(400)},
                      examples=examples.BENEFICIARY_EXAMPLES),
)
class BeneficiaryListCreateView(generics.ListAPIView):
    """The signed-in customer's beneficiaries, newest first (staff have none)."""

    serializer_class = BeneficiarySerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Beneficiary.objects.none()
        return beneficiaries_visible_to(self.request.user)

    @extend_schema(
        summary="Save a beneficiary",
        tags=["beneficiaries"],
        request=BeneficiaryCreateSerializer,
        responses={201: BeneficiarySerializer, **errors(400, 403, "invalid_iban", "unknown_account")},
        examples=examples.BENEFICIARY_CREATE_EXAMPLES,
        description="Customers only (403 otherwise). The IBAN is validated (422 `invalid_iban`); a Flux "
        "IBAN must be another customer's open account (422 `unknown_account`); an IBAN already saved "
        "or one of your own accounts is a 400 `validation_error` on `iban`.",
    )
    def post(self, request: Request) -> Response:
        params = BeneficiaryCreateSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        beneficiary = services.beneficiary_create(
            customer=request.user, name=params.validated_data["name"], iban=params.validated_data["iban"]
        )
        return Response(BeneficiarySerializer(beneficiary).data, status=status.HTTP_201_CREATED)


class BeneficiaryDetailView(APIView):
    @extend_schema(summary="One of your beneficiaries", tags=["beneficiaries"],
                   description="Anyone else's beneficiary is 404.",
                   responses={200: BeneficiarySerializer, **errors(404)}, examples=examples.BENEFICIARY_EXAMPLES)
    def get(self, request: Request, pk: str) -> Response:
        return Response(BeneficiarySerializer(beneficiary_for_user(request.user, pk)).data)

    @extend_schema(summary="Rename a beneficiary", tags=["beneficiaries"],
                   request=BeneficiaryRenameSerializer, responses={200: BeneficiarySerializer, **errors(400, 404)},
                   examples=examples.BENEFICIARY_RENAME_EXAMPLES)
    def patch(self, request: Request, pk: str) -> Response:
        params = BeneficiaryRenameSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        beneficiary = services.beneficiary_rename(
            customer=request.user, beneficiary_id=pk, name=params.validated_data["name"]
        )
        return Response(BeneficiarySerializer(beneficiary).data)

    @extend_schema(summary="Delete a beneficiary", tags=["beneficiaries"], responses={204: None, **errors(404)})
    def delete(self, request: Request, pk: str) -> Response:
        services.beneficiary_delete(customer=request.user, beneficiary_id=pk)
        return Response(status=status.HTTP_204_NO_CONTENT)
