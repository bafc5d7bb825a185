from django.contrib import admin

from banking.models import Account, Entry, Transaction
from core.admin import ReadOnlyModelAdmin, ReadOnlyTabularInline
from core.models import IdempotencyKey
from core.money import format_minor


def _money(field: str, description: str):
    """A list/detail column showing an integer minor-units field as a decimal string."""

    @admin.display(description=description, ordering=field)
    def column(self, obj) -> str:
        return format_minor(getattr(obj, field))

    return column


@admin.register(Account)
class AccountAdmin(ReadOnlyModelAdmin):
    list_display = ("iban", "kind", "currency", "customer", "balance_display", "held_display", "status")
    list_filter = ("kind", "status", "currency")
    search_fields = ("iban", "customer__username", "customer__first_name", "customer__last_name")
    list_select_related = ("customer",)
    ordering = ("id",)
    fields = (
        "iban",
        "kind",
        "currency",
        "customer",
        "balance_display",
        "held_display",
        "available_display",
        "overdraft_limit_display",
        "status",
        "opened_at",
        "closed_at",
    )
    readonly_fields = fields

    balance_display = _money("balance", "balance")
    held_display = _money("held", "held")
    overdraft_limit_display = _money("overdraft_limit", "overdraft limit")

    @admin.display(description="available")
    def available_display(self, obj: Account) -> str:
        return format_minor(obj.available)


class EntryInline(ReadOnlyTabularInline):
    model = Entry
    fields = ("account", "amount_display", "balance_after_display", "counterparty", "created_at")
    readonly_fields = fields
    ordering = ("id",)

    amount_display = _money("amount", "amount")
    balance_after_display = _money("balance_after", "balance after")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("account")


@admin.register(Transaction)
class TransactionAdmin(ReadOnlyModelAdmin):
    list_display = (
        "id",
        "created_at",
        "kind",
        "status",
        "amount_display",
        "currency",
        "source",
        "destination",
        "external_iban",
        "initiated_by",
    )
    list_filter = ("status", "kind", "currency")
    search_fields = ("reference", "external_iban", "source__iban", "destination__iban")
    list_select_related = ("source", "destination", "initiated_by")
    ordering = ("-id",)
    show_full_result_count = False
    inlines = (EntryInline,)
    fields = (
        "kind",
        "status",
        "amount_display",
        "currency",
        "source",
        "destination",
        "external_iban",
        "reference",
        "initiated_by",
        "created_at",
        "posted_at",
        "expires_at",
        "hold_amount_display",
        "decided_by",
        "decided_at",
        "decision_reason",
        "reverses",
    )
    readonly_fields = fields

    amount_display = _money("amount", "amount")
    hold_amount_display = _money("hold_amount", "held while pending")


@admin.register(Entry)
class EntryAdmin(ReadOnlyModelAdmin):
    list_display = (
        "id",
        "created_at",
        "account",
        "transaction",
        "amount_display",
        "balance_after_display",
        "counterparty",
    )
    list_filter = ("account__kind",)
    search_fields = ("account__iban", "counterparty")
    list_select_related = ("account", "transaction")
    ordering = ("-id",)
    show_full_result_count = False
    fields = ("transaction", "account", "amount_display", "balance_after_display", "counterparty", "created_at")
    readonly_fields = fields

    amount_display = _money("amount", "amount")
    balance_after_display = _money("balance_after", "balance after")


@admin.register(IdempotencyKey)
class IdempotencyKeyAdmin(ReadOnlyModelAdmin):
    list_display = ("id", "user", "key", "response_status", "created_at")
    list_filter = ("response_status",)
    search_fields = ("key", "user__username")
    list_select_related = ("user",)
    ordering = ("-id",)
    show_full_result_count = False
    fields = ("user", "key", "fingerprint", "response_status", "response_body", "created_at")
