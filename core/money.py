"""Money is an integer count of minor units inside Flux and a decimal string at every edge."""

from __future__ import annotations

import re
from decimal import Decimal

from django.utils.formats import number_format

# Plain decimal: up to 13 integer digits, up to two decimals. No sign, no exponent, no spaces.
# ASCII digits only (\d would take "١٢"), and \Z, not $, which would accept a trailing newline.
AMOUNT_RE = re.compile(r"\A(?P<units>[0-9]{1,13})(?:\.(?P<cents>[0-9]{1,2}))?\Z")
MAX_MINOR = 10**15 - 1


class AmountError(ValueError):
    pass


class AmbiguousAmountError(AmountError):
    """An amount a person typed that reads two ways ("1.234" on a French page: 1 234 or 1,234?)."""


def parse_amount(value: object, *, allow_zero: bool = False) -> int:
    """Parse a decimal string such as "12.5" or "12.50" into minor units (1250).

    Refuses anything else: numbers (floats lose cents), negatives, exponents, more than two
    decimals, more than 13 integer digits, and zero unless `allow_zero`.
    """
    if not isinstance(value, str):
        raise AmountError('Send the amount as a decimal string, such as "12.50".')
    match = AMOUNT_RE.match(value)
    if match is None:
        raise AmountError(
            "Amounts are positive decimal strings with at most 13 digits before the point "
            'and 2 after it, such as "12.50".'
        )
    cents = (match.group("cents") or "").ljust(2, "0")
    minor = int(match.group("units")) * 100 + int(cents)
    if minor == 0 and not allow_zero:
        raise AmountError("The amount must be greater than zero.")
    return minor


def format_minor(minor: int) -> str:
    """1250 -> "12.50"; -5 -> "-0.05"."""
    sign = "-" if minor < 0 else ""
    units, cents = divmod(abs(minor), 100)
    return f"{sign}{units}.{cents:02d}"


def format_money(minor: int, currency: str = "") -> str:
    """Minor units as people read them in the active language, grouped, with the currency after a
    no-break space (so the two never part): "1,234.50 EUR" in English, "1 234,50 EUR" in French.
    The display format of every page, receipt and statement (format_minor is the machines')."""
    amount = number_format(Decimal(format_minor(int(minor))), decimal_pos=2, use_l10n=True, force_grouping=True)
    return f"{amount}\N{NO-BREAK SPACE}{currency}" if currency else amount


def decimal_to_minor(amount: Decimal) -> int:
    """A configured threshold (Decimal) in minor units."""
    return int((amount * 100).to_integral_value())


# --- Amounts as people type them on the pages ------------------------------------------------------
# The API and files take plain decimals only (parse_amount). A person on a page types an amount the
# way Flux shows it in their language: "1,234.50" in English, "1 234,50" in French (a space, a
# no-break space or a narrow no-break space between thousands), or "1.234,50". Each language names
# its decimal mark and the punctuation that may group thousands on its own ("1,234" in English);
# spaces group thousands in every language. Whatever could be read two ways is refused
# (AmbiguousAmountError), never guessed.
TYPED_FORMATS = {"en": {"decimal": ".", "group": ","}, "fr": {"decimal": ",", "group": ""}}
SPACES = " \u00a0\u202f\u2009"
GROUP_DIGITS = re.compile(r"\A[0-9]{1,3}(?:G[0-9]{3})+\Z")


def _ungroup(units: str, separator: str) -> str:
    if not re.fullmatch(GROUP_DIGITS.pattern.replace("G", re.escape(separator)), units):
        raise AmountError("Thousands are grouped by three digits, such as 1 234 567.")
    return units.replace(separator, "")


def parse_typed_amount(value: object, *, language: str = "en", allow_zero: bool = False) -> int:
    """An amount typed on a page, in the display format of `language` or as a plain decimal, in
    minor units: "1,234.50" (en), "1 234,50", "1.234,50", "12,5" (fr) -> 123450, 123450, 123450, 1250.

    One mark followed by one or two digits is the decimal mark ("12,50" and "12.50" everywhere);
    with both marks the last one is; a mark repeated, or spaces, group thousands by three. A lone
    mark followed by three digits groups thousands only in the language whose grouping mark it is
    ("1,234" is 1234 in English); otherwise it is refused as ambiguous ("1.234" in French), or as
    three decimals when it is the language's decimal mark ("1,234" in French). The result then
    passes parse_amount's rules (13 digits, two decimals, zero)."""
    if not isinstance(value, str):
        raise AmountError('Send the amount as a decimal string, such as "12.50".')
    typed = value.strip()
    for space in SPACES:
        typed = typed.replace(space, " ")
    conventions = TYPED_FORMATS.get((language or "en").split("-")[0].lower(), TYPED_FORMATS["en"])
    marks = [char for char in typed if char in ",."]
    units, cents, group = typed, "", ""
    if len(set(marks)) == 2:
        decimal = typed[max(typed.rfind(","), typed.rfind("."))]
        if marks.count(decimal) != 1:
            raise AmountError("An amount has one decimal mark.")
        units, cents = typed.rsplit(decimal, 1)
        group = "." if decimal == "," else ","
    elif len(marks) == 1:
        units, tail = typed.split(marks[0])
        if len(tail) in (1, 2):
            cents = tail
        elif len(tail) == 3 and marks[0] == conventions["group"]:
            units, group = typed, marks[0]
        elif len(tail) == 3 and marks[0] != conventions["decimal"] and tail.isdigit():
            raise AmbiguousAmountError(f"{value!r} reads two ways: type it without a thousands separator.")
        else:
            raise AmountError("At most two decimals.")
    elif marks:
        group = marks[0]
    if group and " " in units:
        raise AmountError("Thousands are grouped one way only.")
    separator = group or (" " if " " in units else "")
    if separator:
        units = _ungroup(units, separator)
    plain = f"{units}.{cents}" if cents else units
    return parse_amount(plain, allow_zero=allow_zero)
