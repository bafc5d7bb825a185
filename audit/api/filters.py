import django_filters
from django.db.models import Q

from audit.models import AuditLogRecord
from core.filters import FromFilter, ToFilter


class AuditLogFilter(django_filters.FilterSet):
    actor = django_filters.CharFilter(method="filter_actor", max_length=150, help_text="Username or user id.")
    action = django_filters.CharFilter(method="filter_action", max_length=64,
                                       help_text="An action (transaction.posted) or an area (transaction).")
    target_type = django_filters.CharFilter(max_length=32)
    target_id = django_filters.CharFilter(max_length=64)

    class Meta:
        model = AuditLogRecord
        fields: list[str] = []

    def filter_actor(self, qs, name, value):
        matches = Q(actor_username=value)
        if value.isdigit():
            matches |= Q(actor_id=int(value))
        return qs.filter(matches)

    def filter_action(self, qs, name, value):
        if "." in value:
            return qs.filter(action=value)
        return qs.filter(action__startswith=f"{value}.")


AuditLogFilter.base_filters["from"] = FromFilter(field_name="occurred_at", lookup_expr="gte")
AuditLogFilter.base_filters["to"] = ToFilter(field_name="occurred_at", lookup_expr="lte")
