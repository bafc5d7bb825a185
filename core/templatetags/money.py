"""Amounts for people: `{{ entry.amount|money:account.currency }}` gives "1,234.50 EUR" in English
and "1 234,50 EUR" in French (a no-break space, so the amount never wraps).

The database holds integer minor units; formatting goes through core.money (never a float) and
Django's number formatting for the active language."""

from __future__ import annotations

from decimal import Decimal

from django import template
from django.utils.formats import number_format

from core.money import format_minor

register = template.Library()


def format_money(minor: int, currency: str = "") -> str:
    """Minor units as a grouped decimal for the active language, followed by the currency code."""
    amount = number_format(Decimal(format_minor(int(minor))), decimal_pos=2, use_l10n=True, force_grouping=True)
    return f"{amount}\N{NO-BREAK SPACE}{currency}" if currency else amount


@register.filter(name="money")
def money(minor: int | None, currency: str = "") -> str:
    if minor is None or minor == "":
        return ""
    return format_money(minor, currency)
