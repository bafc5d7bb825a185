"""Reading an import file: the CSV's shape and limits, each line checked (shape, amount, IBANs of
open Flux accounts) against the accounts read once for the whole file."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from banking.iban import normalize_iban, parse_iban
from banking.models import Account, AccountStatus
from core.errors import ApplicationError, ValidationFailed
from core.money import AmountError, parse_amount
from workspace.models import ImportLine, ImportLineStatus

HEADER = ["type", "account", "amount", "counterparty", "reference"]


KINDS = ("deposit", "withdrawal", "transfer")


MAX_LINES = 10_000


MAX_BYTES = 4 * 1024 * 1024  # 10,000 lines of two IBANs, an amount and a long reference fit


REFERENCE_MAX = 140


EXAMPLE_CSV = (
    "type,account,amount,counterparty,reference\r\n"
    "deposit,NL64FLUX0000000001,250.00,,Cash paid in at the desk\r\n"
    "withdrawal,NL64FLUX0000000001,40,,Cash paid out\r\n"
    "transfer,NL64FLUX0000000001,12.50,NL37FLUX0000000002,Rent share\r\n"
)


def read_rows(content: bytes) -> Iterator[tuple[int, list[str]]]:
    """The file's records after the header, each with the file line it starts on. Raises
    ValidationFailed when the file is not a CSV with the expected header."""
    if b"\x00" in content:
        raise ValidationFailed({"file": [_("This is not a CSV file (it holds binary data).")]})
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValidationFailed({"file": [_("This is not a CSV file in UTF-8.")]}) from None
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader, None)
        if header is None or [cell.strip().lower() for cell in header] != HEADER:
            raise ValidationFailed({"file": [
                _("The first line must be the header %(header)s.") % {"header": ",".join(HEADER)}
            ]})
        start = reader.line_num + 1
        for row in reader:
            if any(cell.strip() for cell in row):
                yield start, row
            start = reader.line_num + 1
    except csv.Error as exc:
        raise ValidationFailed({"file": [
            _("This is not a readable CSV file (line %(line)d: %(error)s).") % {"line": reader.line_num, "error": exc}
        ]}) from None


@dataclass
class FileAccounts:
    """The Flux accounts a file names, looked up once per IBAN."""

    by_iban: dict[str, Account] = field(default_factory=dict)
    checked: dict[str, str | None] = field(default_factory=dict)  # IBAN -> problem, or None

    @classmethod
    def load(cls, rows: list[tuple[int, list[str]]]) -> FileAccounts:
        ibans = {normalize_iban(cell) for _number, row in rows for cell in row[1:2] + row[3:4] if cell.strip()}
        accounts = Account.objects.filter(iban__in=ibans, customer__isnull=False)
        return cls(by_iban={account.iban: account for account in accounts})

    def find(self, value: str, column: str) -> tuple[Account | None, str | None]:
        iban = normalize_iban(value)
        if not iban:
            return None, _("The %(column)s is missing.") % {"column": column}
        if iban not in self.checked:
            try:
                parse_iban(iban)
                self.checked[iban] = None
            except ApplicationError:
                self.checked[iban] = "invalid"
        if self.checked[iban]:
            return None, _("The %(column)s %(iban)s is not a valid IBAN.") % {"column": column, "iban": iban}
        account = self.by_iban.get(iban)
        if account is None:
            return None, _("No Flux customer account has the IBAN %(iban)s (%(column)s).") % {
                "iban": iban, "column": column}
        if account.status == AccountStatus.CLOSED:
            return None, _("The account %(iban)s is closed.") % {"iban": iban}
        if account.status == AccountStatus.FROZEN:
            return None, _("The account %(iban)s is frozen.") % {"iban": iban}
        return account, None


def validate_line(number: int, row: list[str], accounts: FileAccounts) -> ImportLine:
    line = ImportLine(number=number, raw=row, status=ImportLineStatus.INVALID)
    if len(row) != len(HEADER):
        line.message = _("Expected %(expected)d cells (%(header)s), found %(found)d.") % {
            "expected": len(HEADER), "header": ", ".join(HEADER), "found": len(row)}
        return line
    kind, account_cell, amount_cell, counterparty_cell, reference = (cell.strip() for cell in row)
    kind = kind.lower()
    problems: list[str] = []
    if kind not in KINDS:
        problems.append(_("The type must be deposit, withdrawal or transfer."))
    account, problem = accounts.find(account_cell, _("account"))
    if problem:
        problems.append(problem)
    try:
        amount = parse_amount(amount_cell)
    except AmountError:
        amount = None
        problems.append(_("The amount must be a positive decimal such as 12.50 (at most two decimals)."))
    counterparty = None
    if kind == "transfer":
        counterparty, problem = accounts.find(counterparty_cell, _("counterparty"))
        if problem:
            problems.append(problem)
        elif account is not None and counterparty.pk == account.pk:
            problems.append(_("The account and the counterparty are the same account."))
        elif account is not None and counterparty.currency != account.currency:
            problems.append(_("The account is in %(source)s, the counterparty in %(destination)s.") % {
                "source": account.currency, "destination": counterparty.currency})
    elif kind in KINDS and counterparty_cell.strip():
        problems.append(_("Only a transfer has a counterparty."))
    if len(reference) > REFERENCE_MAX:
        problems.append(_("Keep the reference to %(max)d characters.") % {"max": REFERENCE_MAX})
    if problems:
        line.message = " ".join(problems)[:500]
        return line
    line.status = ImportLineStatus.VALID
    line.kind, line.account, line.amount, line.reference = kind, account, amount, reference
    line.counterparty_iban = counterparty.iban if counterparty else ""
    return line
