"""Display helpers of the customer pages."""

from __future__ import annotations

from django import template
from django.db import models
from django.utils.translation import gettext_lazy as _

from banking.iban import group_iban
from banking.models import AccountStatus, TransactionKind, TransactionStatus
from banking.selectors import counterparty_name_of
from core.templatetags.money import format_money

register = template.Library()

# The customer pages name an account's kind at more length than the model's label ("Checking").
ACCOUNT_KIND_LABELS = {"checking": _("Checking account"), "savings": _("Savings account")}


def choice_label(choices: type[models.TextChoices], value: str) -> str:
    """The translated label of a choice, or the value itself if it is not one."""
    try:
        return str(choices(value).label)
    except ValueError:
        return value


@register.filter
def iban_groups(iban: str) -> str:
    """"NL91FLUX0417164300" -> "NL91 FLUX 0417 1643 00", as IBANs are printed and read aloud."""
    return group_iban(iban)


@register.filter
def counterparty_name(entry) -> str:
    """Who is on the other side of a history line (banking.selectors.counterparty_name_of)."""
    return counterparty_name_of(entry)


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
    return choice_label(AccountStatus, status)


@register.filter
def transaction_kind_label(kind: str) -> str:
    return choice_label(TransactionKind, kind)


@register.filter
def transaction_status_label(status: str) -> str:
    return choice_label(TransactionStatus, status)
