"""Banking's query filters (django-filter FilterSets on core.filters' fields), used by the API and
by the pages alike; bad values give 400 validation_error in the API."""

import django_filters
from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from banking.models import Account, AccountKind, AccountStatus, Entry, Transaction, TransactionStatus
from core.filters import AmountFilter, FromFilter, IdFilter, MaxAmountFilter, MinAmountFilter, ToFilter
from core.ids import MAX_ID


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
        found = (
            Q(counterparty__icontains="".join(value.split()))
            | Q(transaction__reference__icontains=value)
            | Q(transaction__beneficiary_name__icontains=value)
        )
        if "counterparty_holder" in qs.query.annotations:  # banking.selectors.with_counterparty_names
            found |= Q(counterparty_holder__icontains=value) | Q(counterparty_saved__icontains=value)
        return qs.filter(found)


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


class TransferFilterForm(forms.Form):
    def clean(self):
        cleaned = super().clean()
        if cleaned.get("direction") and cleaned.get("account") is None:
            self.add_error("direction", _("Give an account with a direction."))
        return cleaned


class TransferFilter(django_filters.FilterSet):
    """Transfers: `account` (from or to it), `status`, `direction` (`in` or `out`, with `account`),
    `from` / `to` (created), `min` / `max` (amount), `q` (reference or counterparty IBAN)."""

    account = IdFilter(method="by_account", min_value=1, max_value=MAX_ID)
    direction = django_filters.ChoiceFilter(choices=[("in", "in"), ("out", "out")], method="by_direction")
    status = django_filters.ChoiceFilter(choices=TransactionStatus.choices)
    min = AmountFilter(field_name="amount", lookup_expr="gte")
    max = AmountFilter(field_name="amount", lookup_expr="lte")
    q = django_filters.CharFilter(method="search", max_length=100)

    class Meta:
        model = Transaction
        fields: list[str] = []
        form = TransferFilterForm

    def by_account(self, qs, name, value):
        # `direction` (checked by the form to come with an account) picks one side.
        direction = self.form.cleaned_data.get("direction")
        if direction == "in":
            return qs.filter(destination_id=value)
        if direction == "out":
            return qs.filter(source_id=value)
        return qs.filter(Q(source_id=value) | Q(destination_id=value))

    def by_direction(self, qs, name, value):
        return qs  # applied in by_account

    def search(self, qs, name, value):
        value = value.strip()
        if not value:
            return qs
        compact = "".join(value.split()).upper()
        return qs.filter(
            Q(reference__icontains=value)
            | Q(external_iban__contains=compact)
            | Q(source__iban__contains=compact)
            | Q(destination__iban__contains=compact)
        )


TransferFilter.base_filters["from"] = FromFilter(field_name="created_at", lookup_expr="gte")
TransferFilter.base_filters["to"] = ToFilter(field_name="created_at", lookup_expr="lte")
