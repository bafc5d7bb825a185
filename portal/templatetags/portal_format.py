"""Display helpers of the customer pages."""

from __future__ import annotations

from django import template
from django.utils.translation import gettext_lazy as _

from core.templatetags.money import format_money

register = template.Library()

# The model's choice labels are not translated; the customer pages say these instead.
ACCOUNT_KIND_LABELS = {"checking": _("Checking account"), "savings": _("Savings account")}
ACCOUNT_STATUS_LABELS = {"active": _("Active"), "frozen": _("Frozen"), "closed": _("Closed")}
TRANSACTION_KIND_LABELS = {
    "transfer": _("Transfer"),
    "external_transfer": _("Transfer to another bank"),
    "deposit": _("Cash deposit"),
    "withdrawal": _("Cash withdrawal"),
    "reversal": _("Reversal"),
}
TRANSACTION_STATUS_LABELS = {
    "pending": _("Pending approval"),
    "posted": _("Posted"),
    "rejected": _("Rejected"),
    "expired": _("Expired"),
}


@register.filter
def iban_groups(iban: str) -> str:
    """"NL91FLUX0417164300" -> "NL91 FLUX 0417 1643 00", as IBANs are printed and read aloud."""
    compact = "".join(str(iban or "").split())
    return " ".join(compact[i : i + 4] for i in range(0, len(compact), 4))


@register.filter
def amount(minor: int | None) -> str:
    """Minor units for the active language, without the currency: "1,234.50" / "1 234,50"."""
    if minor is None:
        return ""
    return format_money(int(minor))


@register.filter
def signed_amount(minor: int) -> str:
    """An entry's amount with its sign always shown: "+12.50", "-3.00" (for the active language)."""
    text = format_money(abs(int(minor)))
    return f"-{text}" if minor < 0 else f"+{text}"


@register.filter
def account_kind_label(kind: str) -> str:
    return ACCOUNT_KIND_LABELS.get(kind, kind)


@register.filter
def account_status_label(status: str) -> str:
    return ACCOUNT_STATUS_LABELS.get(status, status)


@register.filter
def transaction_kind_label(kind: str) -> str:
    return TRANSACTION_KIND_LABELS.get(kind, kind)


@register.filter
def transaction_status_label(status: str) -> str:
    return TRANSACTION_STATUS_LABELS.get(status, status)
