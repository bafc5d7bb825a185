"""Query filters any API may use (django-filter): amounts, moments and ids, with the schema
drf-spectacular cannot infer from their form fields. Bad values give 400 validation_error."""

from datetime import UTC, datetime, time

import django_filters
from django import forms
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field

from core.ids import MAX_ID
from core.money import AmountError, parse_amount

# How the schema documents these filters (drf-spectacular cannot infer them from the form fields).
AMOUNT_QUERY_SCHEMA = {
    "type": "string", "pattern": r"^\d{1,13}(\.\d{1,2})?$", "example": "125.00",
    "description": "A decimal amount, at most two decimals.",
}
MOMENT_QUERY_SCHEMA = {
    "type": "string", "example": "2026-03-01",
    "description": "A date (2026-03-01; the whole day counts) or an ISO 8601 date-time.",
}
ID_QUERY_SCHEMA = {"type": "integer", "minimum": 1, "maximum": MAX_ID, "example": 17}


class AmountFormField(forms.CharField):
    def clean(self, value):
        value = super().clean(value)
        if value in (None, ""):
            return None
        try:
            return parse_amount(value, allow_zero=True)
        except AmountError:
            # The pages show it too (the history search): in the page's language.
            raise forms.ValidationError(_("Enter an amount such as 12.50 (at most two decimals).")) from None


class MomentFormField(forms.CharField):
    """A date (2026-01-31: the whole day counts, in the site's time zone) or an ISO date-time,
    returned in UTC.

    In UTC because PostgreSQL refuses an offset past 15:59 (Python takes up to 23:59) and would
    fail the whole query with a 500; a moment that has no UTC equivalent within Python's years 1 to
    9999 (0001-01-01T00:00:00+01:00) is refused here, with the same 400 as any malformed value."""

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
            raise forms.ValidationError(_("Use a date (2026-01-31) or an ISO 8601 date-time.")) from None
        try:
            moment = timezone.make_aware(moment) if timezone.is_naive(moment) else moment
            return moment.astimezone(UTC)
        except OverflowError:
            raise forms.ValidationError(_("This date is out of range.")) from None


class EndMomentFormField(MomentFormField):
    end_of_day = True


@extend_schema_field(AMOUNT_QUERY_SCHEMA)
class MinAmountFilter(django_filters.Filter):
    """Entries whose absolute amount is at least this."""

    field_class = AmountFormField

    def filter(self, qs, value):
        if value is None:
            return qs
        return qs.filter(Q(amount__gte=value) | Q(amount__lte=-value))


@extend_schema_field(AMOUNT_QUERY_SCHEMA)
class MaxAmountFilter(django_filters.Filter):
    """Entries whose absolute amount is at most this."""

    field_class = AmountFormField

    def filter(self, qs, value):
        if value is None:
            return qs
        return qs.filter(amount__gte=-value, amount__lte=value)


@extend_schema_field(MOMENT_QUERY_SCHEMA)
class FromFilter(django_filters.Filter):
    field_class = MomentFormField


@extend_schema_field(MOMENT_QUERY_SCHEMA)
class ToFilter(django_filters.Filter):
    field_class = EndMomentFormField


@extend_schema_field(ID_QUERY_SCHEMA)
class IdFilter(django_filters.Filter):
    field_class = forms.IntegerField


@extend_schema_field(AMOUNT_QUERY_SCHEMA)
class AmountFilter(django_filters.Filter):
    field_class = AmountFormField
