"""Agent management for supervisors: the staff list, a new agent (who chooses their own password
through a link sent by mail: no password goes in or out), resending that link, and deactivate,
reactivate, reset two-factor sign-in and unlock. The rules and the audit are in
identity/staff_services.py and identity/password_links.py, shared with the agent-management page."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api.permissions import IsSupervisor
from core.api.schema import errors
from core.errors import NotFound
from core.ids import parse_id
from identity import password_links, staff_services
from identity.api import examples
from identity.models import User
from identity.password_links import public_base_url
from identity.selectors import staff_list, staff_member_get


class StaffMemberSerializer(serializers.ModelSerializer):
    has_2fa = serializers.BooleanField(read_only=True, help_text="A confirmed TOTP device is enrolled.")
    locked_out = serializers.BooleanField(read_only=True, help_text="Refused after too many failed sign-ins.")
    password_set = serializers.BooleanField(
        source="has_usable_password", read_only=True,
        help_text="They have chosen their password through the link sent by mail (false until then).",
    )

    class Meta:
        model = User
        fields = ["id", "username", "role", "first_name", "last_name", "email", "is_active", "has_2fa", "locked_out",
                  "password_set"]
        read_only_fields = fields


class StaffPageSerializer(serializers.Serializer):
    """The whole staff list in one page (a bank's staff is short), in the shape of every list."""

    results = StaffMemberSerializer(many=True)
    next = serializers.CharField(allow_null=True)
    previous = serializers.CharField(allow_null=True)


class AgentCreateSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    first_name = serializers.CharField(max_length=150)
    last_name = serializers.CharField(max_length=150)
    email = serializers.CharField(max_length=254, help_text="Where the link to choose their password goes.")

    def validate(self, attrs: dict) -> dict:
        # Refused rather than ignored: a caller who sends one must not believe it was set.
        if "password" in self.initial_data:
            raise serializers.ValidationError({"password": [
                "A new member of staff chooses their own password through the link sent to their email; "
                "leave it out."
            ]})
        return attrs


class StaffListCreateView(APIView):
    """Agents and supervisors (supervisors only). POST creates an agent, with no password: they get
    a one-time link by mail to choose their own, then enrol two-factor sign-in at their first
    sign-in when it is required."""

    permission_classes = [IsSupervisor]

    @extend_schema(summary="The bank's staff (supervisors)", responses={200: StaffPageSerializer, **errors(403)},
                   examples=examples.STAFF_LIST_EXAMPLES)
    def get(self, request: Request) -> Response:
        members = StaffMemberSerializer(staff_list(), many=True).data
        return Response({"results": members, "next": None, "previous": None})

    @extend_schema(
        summary="Create an agent (supervisors)",
        description="Takes no password and answers none (a `password` field is refused with 400 "
        "`validation_error`): the agent gets a one-time link by mail to choose their own (`password_set` "
        "is false until they do). Resend it with staff/{id}/resend-password-link/.",
        request=AgentCreateSerializer,
        responses={201: StaffMemberSerializer, **errors(400, 403)},
        examples=examples.AGENT_CREATE_EXAMPLES,
    )
    def post(self, request: Request) -> Response:
        params = AgentCreateSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        agent = staff_services.agent_create(actor=request.user, base_url=public_base_url(request),
                                            **params.validated_data)
        return Response(StaffMemberSerializer(staff_member_get(member_id=agent.pk)).data,
                        status=status.HTTP_201_CREATED)


class StaffActionView(APIView):
    permission_classes = [IsSupervisor]
    service = None

    @extend_schema(request=None, responses={200: StaffMemberSerializer, **errors(400, 403, 404)},
                   examples=examples.STAFF_MEMBER_EXAMPLES)
    def post(self, request: Request, pk: str) -> Response:
        member = staff_member_get(member_id=pk)
        type(self).service(actor=request.user, user=member)
        return Response(StaffMemberSerializer(staff_member_get(member_id=member.pk)).data)


@extend_schema_view(post=extend_schema(summary="Deactivate a member of staff (supervisors)"))
class StaffDeactivateView(StaffActionView):
    """Stop a member of staff from signing in; their sessions end and their refresh tokens are revoked."""

    service = staticmethod(staff_services.staff_deactivate)


@extend_schema_view(post=extend_schema(summary="Reactivate a member of staff (supervisors)"))
class StaffReactivateView(StaffActionView):
    """Let a deactivated member of staff sign in again."""

    service = staticmethod(staff_services.staff_reactivate)


@extend_schema_view(post=extend_schema(summary="Reset a member of staff's two-factor sign-in (supervisors)"))
class StaffResetTwoFactorView(StaffActionView):
    """Remove a member of staff's TOTP devices (a lost phone): they enrol again at their next sign-in."""

    service = staticmethod(staff_services.staff_2fa_reset)


class StaffResendPasswordLinkView(APIView):
    """Mail a new one-time link to a member of staff who has not chosen their password yet."""

    permission_classes = [IsSupervisor]

    @extend_schema(
        summary="Mail a member of staff a new link to choose their password (supervisors)",
        description="While they have not chosen one (`password_set` false); the link sent before stops "
        "working. 400 `validation_error` once they have a password, or when they are deactivated.",
        request=None,
        responses={200: StaffMemberSerializer, **errors(400, 403, 404)},
        examples=examples.STAFF_MEMBER_EXAMPLES,
    )
    def post(self, request: Request, pk: str) -> Response:
        member = staff_member_get(member_id=pk)
        password_links.password_link_resend(actor=request.user, user=member, base_url=public_base_url(request))
        return Response(StaffMemberSerializer(staff_member_get(member_id=member.pk)).data)


class UserUnlockView(APIView):
    """End a lockout (of anyone: staff or customer) before FLUX_LOCKOUT_MINUTES are up (204)."""

    permission_classes = [IsSupervisor]

    @extend_schema(summary="Unlock a user (supervisors)", request=None, responses={204: None, **errors(400, 403, 404)})
    def post(self, request: Request, pk: str) -> Response:
        user = User.objects.filter(pk=parse_id(pk)).first()
        if user is None:
            raise NotFound("No such user.")
        staff_services.staff_unlock(actor=request.user, user=user)
        return Response(status=status.HTTP_204_NO_CONTENT)


