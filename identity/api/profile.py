"""The signed-in customer's contact details and password, and a customer's contact details at the
desk (staff). The rules and the audit are in identity/services.py, shared with the pages."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api.permissions import IsCustomer
from core.api.schema import errors
from core.api.throttling import ScopedRateThrottle, UserRateThrottle
from identity import services
from identity.api import examples
from identity.services import ADDRESS_MAX_LENGTH


class ContactSerializer(serializers.Serializer):
    """Email, phone and address. In a PATCH, a field left out keeps its value."""

    email = serializers.CharField(max_length=254)
    phone = serializers.CharField(max_length=32, required=False, allow_blank=True)
    address = serializers.CharField(max_length=ADDRESS_MAX_LENGTH, required=False, allow_blank=True,
                                    trim_whitespace=False)


class PasswordChangeSerializer(serializers.Serializer):
    old_password = serializers.CharField(max_length=128, trim_whitespace=False)
    new_password = serializers.CharField(max_length=128, trim_whitespace=False)


def contact_of(user) -> dict:
    return {"email": user.email, "phone": user.phone, "address": user.address}


def update_contact(request: Request, customer, *, actor=None):
    """Validate a PATCH of contact details (fields left out keep their value) and apply it."""
    params = ContactSerializer(data=request.data, partial=True)
    params.is_valid(raise_exception=True)
    wanted = contact_of(customer) | params.validated_data
    return services.customer_update_contact(customer=customer, actor=actor, **wanted)


class MeContactView(APIView):
    """The signed-in customer's own contact details (names are changed by an agent)."""

    permission_classes = [IsCustomer]

    @extend_schema(summary="Your contact details (customers)", responses={200: ContactSerializer, **errors(403)},
                   examples=examples.CONTACT_EXAMPLES)
    def get(self, request: Request) -> Response:
        return Response(contact_of(request.user))

    @extend_schema(summary="Change your contact details (customers)", request=ContactSerializer,
                   responses={200: ContactSerializer, **errors(400, 403)}, examples=examples.CONTACT_EXAMPLES)
    def patch(self, request: Request) -> Response:
        return Response(contact_of(update_contact(request, request.user)))


class MePasswordView(APIView):
    """Change one's own password (204). Every refresh token of the user is revoked, so every other
    device signs in again; the access token in hand works until it expires. Held to the sign-in
    rate (per user), so a stolen access token cannot try passwords at the API's general rate."""

    throttle_classes = [ScopedRateThrottle, UserRateThrottle]
    throttle_scope = "auth"

    @extend_schema(summary="Change your password", request=PasswordChangeSerializer,
                   responses={204: None, **errors(400)}, examples=examples.PASSWORD_EXAMPLES)
    def post(self, request: Request) -> Response:
        params = PasswordChangeSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        services.password_change_checked(user=request.user, old_password=params.validated_data["old_password"],
                                         new_password=params.validated_data["new_password"], channel="api")
        return Response(status=status.HTTP_204_NO_CONTENT)
