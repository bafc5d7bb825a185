"""Amounts for people: `{{ entry.amount|money:account.currency }}` gives "1,234.50 EUR" in English
and "1 234,50 EUR" in French (a no-break space, so the amount never wraps).

The database holds integer minor units; formatting goes through core.money (never a float) and
Django's number formatting for the active language."""

from __future__ import annotations

from django import template

from core.money import format_money

register = template.Library()


@register.filter(name="money")
def money(minor: int | None, currency: str = "") -> str:
    if minor is None or minor == "":
        return ""
    return format_money(minor, currency)
