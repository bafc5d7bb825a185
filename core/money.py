"""Money is an integer count of minor units inside Flux and a decimal string at every edge."""

from __future__ import annotations

import re
from decimal import Decimal

# Plain decimal: up to 13 integer digits, up to two decimals. No sign, no exponent, no spaces.
# ASCII digits only (\d would take "١٢"), and \Z, not $, which would accept a trailing newline.
AMOUNT_RE = re.compile(r"\A(?P<units>[0-9]{1,13})(?:\.(?P<cents>[0-9]{1,2}))?\Z")
MAX_MINOR = 10**15 - 1


class AmountError(ValueError):
    pass


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


def decimal_to_minor(amount: Decimal) -> int:
    """A configured threshold (Decimal) in minor units."""
    return int((amount * 100).to_integral_value())
