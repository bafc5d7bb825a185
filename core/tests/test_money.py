"""Money at the edges: decimal strings in, integer minor units inside, decimal strings out."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.errors import ApplicationError, ErrorCode, NotFound, ValidationFailed
from core.money import (
    MAX_MINOR,
    AmbiguousAmountError,
    AmountError,
    decimal_to_minor,
    format_minor,
    parse_amount,
    parse_typed_amount,
)


@pytest.mark.parametrize(
    ("text", "minor"),
    [
        ("12.5", 1250),
        ("12.50", 1250),
        ("12", 1200),
        ("0.01", 1),
        ("0.1", 10),
        ("007.05", 705),
        ("1234.56", 123456),
        ("9999999999999.99", MAX_MINOR),
    ],
)
def test_parse_amount_reads_plain_decimal_strings(text, minor):
    assert parse_amount(text) == minor


@pytest.mark.parametrize(
    "value",
    [
        12.5,  # a float loses cents
        1250,
        Decimal("12.50"),
        None,
        "",
        "0",
        "0.00",
        "-1",
        "-0.01",
        "+1",
        "1e3",
        "1E3",
        "12.505",
        "12.",
        ".5",
        " 12.50",
        "12.50 ",
        "12 50",
        "1,50",
        "12,50",
        "10000000000000",  # 14 integer digits
        "NaN",
        "Infinity",
        "0x10",
        "1_000",
    ],
)
def test_parse_amount_refuses_anything_else(value):
    with pytest.raises(AmountError):
        parse_amount(value)


@pytest.mark.parametrize("value", ["12.50\n", "12\n", "١٢.٥٠", "１２", "12.５"])  # $ and \d would take these
def test_parse_amount_refuses_a_trailing_newline_and_non_ascii_digits(value):
    with pytest.raises(AmountError):
        parse_amount(value)


def test_parse_amount_allows_zero_only_when_asked():
    assert parse_amount("0", allow_zero=True) == 0
    assert parse_amount("0.00", allow_zero=True) == 0
    with pytest.raises(AmountError, match="greater than zero"):
        parse_amount("0.00")


@pytest.mark.parametrize(
    ("minor", "text"),
    [(0, "0.00"), (5, "0.05"), (-5, "-0.05"), (1250, "12.50"), (-123456, "-1234.56"), (MAX_MINOR, "9999999999999.99")],
)
def test_format_minor(minor, text):
    assert format_minor(minor) == text


@given(st.integers(min_value=1, max_value=MAX_MINOR))
def test_format_and_parse_round_trip(minor):
    assert parse_amount(format_minor(minor)) == minor
    assert Decimal(format_minor(minor)) * 100 == minor


@pytest.mark.parametrize(
    ("amount", "minor"),
    [(Decimal("10000.00"), 1_000_000), (Decimal("5000"), 500_000), (Decimal("0.01"), 1), (Decimal("12.5"), 1250)],
)
def test_decimal_to_minor(amount, minor):
    assert decimal_to_minor(amount) == minor


# --- The error type every service raises ------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "status"),
    [
        ("validation_error", 400),
        ("permission_denied", 403),
        ("not_found", 404),
        ("account_frozen", 409),
        ("already_reversed", 409),
        ("insufficient_funds", 422),
        ("idempotency_key_reused", 422),
        ("throttled", 429),
    ],
)
def test_error_codes_map_to_the_documented_status(code, status):
    assert ApplicationError(code, "message").status == status == ErrorCode(code).status


def test_error_bodies_have_the_documented_shape():
    assert ApplicationError("same_account", "Same.").as_body() == {
        "error": {"code": "same_account", "message": "Same."}
    }
    assert NotFound().as_body() == {"error": {"code": "not_found", "message": "Not found."}}
    failed = ValidationFailed({"amount": ["Too many decimals."]})
    assert failed.status == 400
    assert failed.as_body() == {
        "error": {
            "code": "validation_error",
            "message": "The request is not valid.",
            "fields": {"amount": ["Too many decimals."]},
        }
    }
    with pytest.raises(ValueError):  # an unknown code fails loudly (core/tests/test_error_codes.py)
        ApplicationError("some_new_code", "?")


# --- Amounts as people type them on the pages (issue 14's walk) --------------------------------
NNBSP, NBSP = "\u202f", "\u00a0"


@pytest.mark.parametrize(("language", "text", "minor"), [
    # French: Flux's own display ("1 234,50", with any of the spaces it may print) and "1.234,50".
    ("fr", "1 234,50", 123450),
    ("fr", f"1{NBSP}234,50", 123450),
    ("fr", f"1{NNBSP}234,50", 123450),
    ("fr", f"12{NNBSP}345{NNBSP}678,09", 1234567809),
    ("fr", "1.234,50", 123450),
    ("fr", "1.234.567", 123456700),
    ("fr", "12,5", 1250),
    ("fr", "12.50", 1250),
    ("fr", "1 234", 123400),
    ("fr", " 1 234,50 ", 123450),
    # English: "1,234.50", and what a French habit types.
    ("en", "1,234.50", 123450),
    ("en", "1,234", 123400),
    ("en", "1,234,567.89", 123456789),
    ("en", "1 234.50", 123450),
    ("en", "12,50", 1250),
    ("en", "12.5", 1250),
    ("en", "1.234,50", 123450),
])
def test_typed_amounts_in_the_display_format_of_the_language(language, text, minor):
    assert parse_typed_amount(text, language=language) == minor


@pytest.mark.parametrize(("language", "text"), [
    ("fr", "1.234"),  # 1 234 or 1,234? (French groups with spaces)
    ("en", "1.234"),  # three decimals
    ("fr", "1,234"),  # three decimals
    ("en", "12,345.678"),
    ("fr", "1 23,50"),  # groups of three digits only
    ("fr", "12 34"),
    ("en", "1,23,456"),
    ("fr", "1.234.56"),
    ("fr", "1.234,567"),
    ("fr", "1 234.567,50"),  # two ways of grouping
    ("en", "1,234,50"),
    ("fr", "1,234,50"),
    ("fr", "-1 234,50"),
    ("fr", "1 234,50 EUR"),
    ("fr", ""),
    ("fr", "0,00"),
    ("en", "1e3"),
    ("fr", "١٢٣"),
])
def test_typed_amounts_that_are_wrong_or_read_two_ways_are_refused(language, text):
    with pytest.raises(AmountError):
        parse_typed_amount(text, language=language)


def test_an_ambiguous_amount_is_told_apart():
    with pytest.raises(AmbiguousAmountError):
        parse_typed_amount("1.234", language="fr")
    assert parse_typed_amount("1,234", language="en") == 123400


def test_typed_amounts_keep_the_plain_decimal_rules():
    assert parse_typed_amount("0,00", language="fr", allow_zero=True) == 0
    with pytest.raises(AmountError):
        parse_typed_amount("10 000 000 000 000,00", language="fr")  # 14 digits
