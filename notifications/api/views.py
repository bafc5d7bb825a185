"""Notifications API (customers): GET notifications/ (their own, newest first, cursor-paginated),
POST notifications/{id}/read/ and POST notifications/read-all/. Another customer's notification is
not found; staff get none (403)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import generics
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api.permissions import IsCustomer
from core.api.schema import errors
from notifications import selectors, services
from notifications.api import examples
from notifications.api.serializers import NotificationSerializer, ReadAllSerializer
from notifications.models import Notification


@extend_schema_view(
    get=extend_schema(
        summary="List your notifications", tags=["notifications"],
        description="Customers only (403 otherwise). Newest first: money received (naming the payer), "
        "your transfers approved, rejected, expired or returned, your accounts frozen or unfrozen. "
        "`title` and `body` are in the request's language (Accept-Language); `read_at` is null while unread.",
        responses={200: NotificationSerializer(many=True), **errors(400, 403)},
        examples=examples.NOTIFICATION_EXAMPLES,
    ),
)
class NotificationListView(generics.ListAPIView):
    permission_classes = [IsCustomer]
    serializer_class = NotificationSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Notification.objects.none()
        return selectors.notifications_for(self.request.user)


class NotificationReadView(APIView):
    permission_classes = [IsCustomer]

    @extend_schema(summary="Mark a notification read", tags=["notifications"], request=None,
                   description="Your own notifications only (anyone else's is 404). Marking one read "
                   "again keeps the first time.",
                   responses={200: NotificationSerializer, **errors(403, 404)}, examples=examples.READ_EXAMPLES)
    def post(self, request: Request, pk: str) -> Response:
        notification = services.notification_mark_read(customer=request.user, notification_id=pk)
        return Response(NotificationSerializer(notification).data)


class NotificationReadAllView(APIView):
    permission_classes = [IsCustomer]

    @extend_schema(summary="Mark all your notifications read", tags=["notifications"], request=None,
                   responses={200: ReadAllSerializer, **errors(403)}, examples=examples.READ_ALL_EXAMPLES)
    def post(self, request: Request) -> Response:
        return Response({"read": services.notifications_mark_all_read(customer=request.user)})
