"""Query filters of the banking API; bad values give 400 validation_error (django-filter)."""

from datetime import datetime, time

import django_filters
from django import forms
from django.db.models import Q
from django.utils import timezone

from banking.models import Account, AccountKind, AccountStatus, Entry
from core.money import AmountError, parse_amount


class AmountFormField(forms.CharField):
    def clean(self, value):
        value = super().clean(value)
        if value in (None, ""):
            return None
        try:
            return parse_amount(value, allow_zero=True)
        except AmountError as exc:
            raise forms.ValidationError(str(exc)) from None


class MomentFormField(forms.CharField):
    """A date (2026-01-31: the whole day counts) or an ISO date-time."""

    end_of_day = False

    def clean(self, value):
        value = super().clean(value)
        if value in (None, ""):
            return None
        try:
            if len(value) == 10:
                day = datetime.strptime(value, "%Y-%m-%d").date()
                moment = datetime.combine(day, time.max if self.end_of_day else time.min)
            else:
                moment = datetime.fromisoformat(value)
        except ValueError:
            raise forms.ValidationError("Use a date (2026-01-31) or an ISO 8601 date-time.") from None
        return timezone.make_aware(moment) if timezone.is_naive(moment) else moment


class EndMomentFormField(MomentFormField):
    end_of_day = True


class MinAmountFilter(django_filters.Filter):
    """Entries whose absolute amount is at least this."""

    field_class = AmountFormField

    def filter(self, qs, value):
        if value is None:
            return qs
        return qs.filter(Q(amount__gte=value) | Q(amount__lte=-value))


class MaxAmountFilter(django_filters.Filter):
    """Entries whose absolute amount is at most this."""

    field_class = AmountFormField

    def filter(self, qs, value):
        if value is None:
            return qs
        return qs.filter(amount__gte=-value, amount__lte=value)


class EntryFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", max_length=100)
    min = MinAmountFilter(field_name="amount")
    max = MaxAmountFilter(field_name="amount")

    class Meta:
        model = Entry
        fields: list[str] = []

    def search(self, qs, name, value):
        value = value.strip()
        if not value:
            return qs
        return qs.filter(
            Q(counterparty__icontains="".join(value.split())) | Q(transaction__reference__icontains=value)
        )


class FromFilter(django_filters.Filter):
    field_class = MomentFormField


class ToFilter(django_filters.Filter):
    field_class = EndMomentFormField


# `from` is a Python keyword, so it cannot be a class attribute.
EntryFilter.base_filters["from"] = FromFilter(field_name="created_at", lookup_expr="gte")
EntryFilter.base_filters["to"] = ToFilter(field_name="created_at", lookup_expr="lte")


class AccountFilter(django_filters.FilterSet):
    customer = django_filters.NumberFilter(field_name="customer_id")
    status = django_filters.ChoiceFilter(choices=AccountStatus.choices)
    kind = django_filters.ChoiceFilter(choices=AccountKind.choices)

    class Meta:
        model = Account
        fields = ["customer", "status", "kind"]
