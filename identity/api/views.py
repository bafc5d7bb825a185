"""Sign-in, sign-out, the signed-in user, and customers (staff)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api.permissions import IsBankStaff
from core.api.schema import errors
from core.api.throttling import ScopedRateThrottle
from identity import services, tokens
from identity.api import examples
from identity.api.profile import ContactSerializer, update_contact
from identity.api.serializers import (
    CustomerSerializer,
    MeSerializer,
    RefreshSerializer,
    TokenObtainSerializer,
    TokenPairSerializer,
)
from identity.selectors import customer_get


class AuthThrottleMixin:
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "auth"


class TokenObtainView(AuthThrottleMixin, APIView):
    """Exchange a username and password (and, for staff with 2FA, an `otp`) for a JWT pair.

    Refusals: 401 `not_authenticated` (wrong username or password); 401 `otp_required` /
    `otp_invalid` (staff when FLUX_REQUIRE_2FA is on: a current TOTP code from the device enrolled
    on the pages); 429 `locked_out` after FLUX_LOCKOUT_FAILURES failures for one username, for
    FLUX_LOCKOUT_MINUTES, even with the right password."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(
        summary="Sign in: a token pair",
        description="No authentication. `access` (a few minutes) goes in `Authorization: Bearer <access>`; "
        "`refresh` gets a new pair from auth/token/refresh/. Staff with two-factor sign-in add `otp`. "
        "401 `not_authenticated` for a wrong username or password, `otp_required` / `otp_invalid`; "
        "429 `locked_out` after too many failures for one username (even with the right password).",
        request=TokenObtainSerializer,
        responses={200: TokenPairSerializer, **errors(400, "not_authenticated", "otp_required", "otp_invalid",
                                                      "throttled", "locked_out")},
        auth=[],
        examples=examples.TOKEN_OBTAIN_EXAMPLES,
    )
    def post(self, request: Request) -> Response:
        params = TokenObtainSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        pair = services.token_obtain(
            username=params.validated_data["username"],
            password=params.validated_data["password"],
            otp=params.validated_data.get("otp"),
            request=request._request,
        )
        return Response(pair)


class TokenRefreshView(AuthThrottleMixin, APIView):
    """Exchange a refresh token for a new pair; the old refresh token stops working (rotation).
    One refresh token gives one pair; a rotated one sent again revokes its whole family
    (identity/tokens.py)."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(
        summary="Refresh: a new token pair",
        description="No authentication. The refresh token is rotated: the one sent stops working, use the "
        "new one. A revoked, rotated or expired refresh token is 401 `not_authenticated`. One refresh token "
        "gives one pair, even to concurrent requests (the others get 401). Sending a refresh token that was "
        "already rotated is taken for theft: every token descended from the same sign-in (refresh and access) "
        "is revoked, and the client signs in again.",
        request=RefreshSerializer,
        responses={200: TokenPairSerializer, **errors(400, 401)},
        auth=[],
        examples=examples.TOKEN_REFRESH_EXAMPLES,
    )
    def post(self, request: Request) -> Response:
        params = RefreshSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        return Response(tokens.token_refresh(refresh=params.validated_data["refresh"]))


class LogoutView(APIView):
    """Revoke a refresh token (204). Access tokens expire on their own within minutes."""

    @extend_schema(
        summary="Sign out: revoke a refresh token",
        description="204; the refresh token stops working (the access token expires on its own within minutes). "
        "A refresh token that is not valid, not yours or already revoked is 400.",
        request=RefreshSerializer,
        responses={204: None, **errors(400)},
        examples=examples.LOGOUT_EXAMPLES,
    )
    def post(self, request: Request) -> Response:
        params = RefreshSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        services.token_logout(user=request.user, refresh=params.validated_data["refresh"])
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeView(APIView):
    @extend_schema(summary="The signed-in user", responses=MeSerializer, examples=examples.ME_EXAMPLES)
    def get(self, request: Request) -> Response:
        return Response(MeSerializer(request.user).data)


class CustomerDetailView(APIView):
    """A customer (staff). PATCH changes their email, phone or address, as at the desk; audited as
    `customer.updated` by the member of staff, with the names of the fields that changed."""

    permission_classes = [IsBankStaff]

    @extend_schema(summary="One customer (staff)", responses={200: CustomerSerializer, **errors(403, 404)},
                   examples=examples.CUSTOMER_EXAMPLES)
    def get(self, request: Request, pk: str) -> Response:
        return Response(CustomerSerializer(customer_get(customer_id=pk)).data)

    @extend_schema(summary="Change a customer's contact details (staff)", request=ContactSerializer,
                   responses={200: CustomerSerializer, **errors(400, 403, 404)},
                   examples=examples.CUSTOMER_CONTACT_EXAMPLES)
    def patch(self, request: Request, pk: str) -> Response:
        customer = update_contact(request, customer_get(customer_id=pk), actor=request.user)
        return Response(CustomerSerializer(customer).data)
