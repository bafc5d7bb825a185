import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from audit.models import AuditLogRecord
from core.filters import FromFilter, ToFilter


class AuditLogFilter(django_filters.FilterSet):
    # Labels: the dashboard's filter form (templates/audit/log.html) shows them.
    actor = django_filters.CharFilter(method="filter_actor", max_length=150, label=_("Actor"),
                                      help_text="Username or user id.")
    action = django_filters.CharFilter(method="filter_action", max_length=64, label=_("Action"),
                                       help_text="An action (transaction.posted) or an area (transaction).")
    target_type = django_filters.CharFilter(max_length=32, label=_("Target type"))
    target_id = django_filters.CharFilter(max_length=64, label=_("Target id"))

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


AuditLogFilter.base_filters["from"] = FromFilter(field_name="occurred_at", lookup_expr="gte", label=_("From"))
AuditLogFilter.base_filters["to"] = ToFilter(field_name="occurred_at", lookup_expr="lte", label=_("To"))
