"""Checks, for tests, that a CSV Flux wrote is safe to open in a spreadsheet (core/safe_csv.py)."""

from __future__ import annotations

import csv
import io
import re

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
PLAIN_NUMBER = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")


def is_formula(cell: str) -> bool:
    """Would a spreadsheet run `cell` as a formula? A plain number ("-12.50") it reads as a number."""
    return cell.startswith(FORMULA_PREFIXES) and not PLAIN_NUMBER.fullmatch(cell)


def assert_spreadsheet_safe(raw: str) -> list[list[str]]:
    """Read `raw` the ways a spreadsheet might and assert that no cell is a formula: with `,` and
    with `;` as the separator (quotes honoured), and split naively on `,`, `;` and line breaks with
    the quotes ignored (only each field's own opening quote taken off). Returns the rows as read
    with `,`, Flux's separator."""
    rows = list(csv.reader(io.StringIO(raw, newline="")))
    for delimiter in (",", ";"):
        for row in csv.reader(io.StringIO(raw, newline=""), delimiter=delimiter):
            for cell in row:
                assert not is_formula(cell), (delimiter, cell)
    for piece in re.split(r"[,;\r\n]", raw):
        piece = piece.lstrip(" ")
        piece = piece[1:] if piece.startswith('"') else piece
        piece = piece[:-1] if piece.endswith('"') else piece
        assert not is_formula(piece), ("naive split", piece)
    return rows
