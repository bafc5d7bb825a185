"""GET customers/{id}/events/ (staff): what happened to a customer, their accounts and their
transactions, newest first, as the desk's customer page shows it. The whole log stays for
supervisors (audit/events/)."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import generics, serializers

from audit.models import AuditEvent
from banking.api.examples import ALICE_IBAN
from banking.selectors import customer_event_queryset
from core.api.permissions import IsBankStaff
from core.api.schema import errors
from identity.selectors import customer_get


class CustomerEventSerializer(serializers.ModelSerializer):
    actor = serializers.SerializerMethodField(help_text="The username, or null for the system.")

    class Meta:
        model = AuditEvent
        fields = ["id", "occurred_at", "actor", "action", "target_type", "target_id", "data"]
        read_only_fields = fields

    def get_actor(self, event: AuditEvent) -> str | None:
        return event.actor_username or None


@extend_schema(
    summary="Audit events about one customer (staff)",
    responses={200: CustomerEventSerializer(many=True), **errors(400, 403, 404)},
    examples=[OpenApiExample("A deposit at the counter", response_only=True, value={
        "results": [{"id": 812, "occurred_at": "2026-11-20T09:14:03.120000+01:00", "actor": "agnes",
                     "action": "transaction.posted", "target_type": "transaction", "target_id": "4411",
                     "data": {"kind": "deposit", "status": "posted", "amount": "200.00", "currency": "EUR",
                              "source": None, "destination": ALICE_IBAN, "reference": "Cash"}}],
        "next": None, "previous": None})],
)
class CustomerEventListView(generics.ListAPIView):
    """Events about a customer: sign-ins and profile changes, their accounts' lifecycle, and every
    transaction touching their accounts. Newest first, cursor-paginated."""

    permission_classes = [IsBankStaff]
    serializer_class = CustomerEventSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return AuditEvent.objects.none()
        customer = customer_get(customer_id=self.kwargs["pk"])
        return customer_event_queryset(customer_id=customer.pk)
