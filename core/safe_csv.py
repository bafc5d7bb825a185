"""CSV files that a spreadsheet opens as data, never as formulas (CSV injection, OWASP).

Every CSV Flux writes (statements, import reports) goes through `writer()`, so no writer can forget
a cell:

- Every field is quoted (csv.QUOTE_ALL). A field such as `x;=1+1;y` is then one field for a
  spreadsheet that splits on `;` (the French default) as well as on `,`, instead of three, the
  middle one a formula.
- Every cell goes through `safe_cell`: text that a spreadsheet would read as a formula (starting
  with = + - @, a tab or a carriage return) gets a leading apostrophe, and so does such text right
  after a `,`, `;` or line break inside the cell, for a program that ignores the quotes and splits
  anyway (`x;=1+1` -> `x;'=1+1`).
- A plain decimal number (`-12.50`, `1235.00`, `42`) is left as it is: it cannot carry a formula,
  and a spreadsheet must read Flux's signed amounts as numbers it can add up, not as text (an
  apostrophe would turn every debit into text).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from typing import Any, Protocol

# What a spreadsheet takes for the start of a formula.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
# A formula character at the start of the cell, or after a separator or line break inside it
# (spaces in between allowed): the apostrophe goes right before it.
_FORMULA_START = re.compile(r"(\A|[,;\r\n])( *)(?=[=+\-@\t\r])")
_PLAIN_NUMBER = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")


def safe_cell(value: object) -> str:
    """`value` as a cell a spreadsheet shows as it is (see the module docstring). None is empty."""
    text = "" if value is None else str(value)
    if _PLAIN_NUMBER.fullmatch(text):
        return text
    return _FORMULA_START.sub(r"\1\2'", text)


class _Writable(Protocol):
    def write(self, text: str, /) -> Any: ...


class SafeWriter:
    """csv.writer's writerow and writerows, every field quoted and made safe. writerow returns what
    the file's write returned (so a streaming response can use a file whose write returns the row)."""

    def __init__(self, file: _Writable):
        self._writer = csv.writer(file, quoting=csv.QUOTE_ALL, lineterminator="\r\n")

    def writerow(self, row: Iterable[object]) -> Any:
        return self._writer.writerow([safe_cell(value) for value in row])

    def writerows(self, rows: Iterable[Iterable[object]]) -> None:
        for row in rows:
            self.writerow(row)


def writer(file: _Writable) -> SafeWriter:
    """The one way Flux writes CSV: `writer(buffer).writerows(rows)`."""
    return SafeWriter(file)
