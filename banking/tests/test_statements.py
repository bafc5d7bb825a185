"""Monthly statements (figures, CSV, PDF) and the money in / out chart selector."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest
from django.utils import translation
from pypdf import PdfReader

from banking.iban import group_iban
from banking.models import Entry
from banking.services import transfer_create
from banking.statements.exports import statement_csv, statement_filename, statement_pdf
from banking.statements.selectors import money_in_out_by_month, parse_month, statement_for_month, statement_months
from banking.tests.history import (
    BEFORE_LABEL,
    BEFORE_MONTH,
    EARLIER_LABEL,
    EARLIER_MONTH,
    END_OF_LAST_MONTH,
    EXTERNAL_IBAN,
    INJECTION,
    LAST_LABEL,
    LAST_MONTH,
    THIS_LABEL,
    THIS_MONTH,
    book_history,
    on,
    previous_month,
)
from core.errors import ApplicationError
from core.money import format_money
from core.safe_csv import safe_cell
from core.testing.spreadsheet import assert_spreadsheet_safe

pytestmark = pytest.mark.django_db


@pytest.fixture
def history(alice, bob, open_account, agnes, vault, clearing):
    return book_history(customer=alice, other_customer=bob, open_account=open_account, agent=agnes)


def test_october_statement_totals(history):
    statement = statement_for_month(account=history.checking, month=LAST_MONTH)
    assert statement.opening_balance == 300_00
    assert [line.amount for line in statement.lines] == [1200_00, -50_00, -200_00, 25_00, -40_00]
    assert [line.reference for line in statement.lines][:2] == ["Salary", INJECTION]
    assert statement.money_in == 1225_00
    assert statement.money_out == 290_00
    assert statement.closing_balance == 1235_00
    # The ledger's rule, month by month: closing == opening + the month's entries.
    assert statement.closing_balance == statement.opening_balance + sum(line.amount for line in statement.lines)
    assert statement.closing_balance == statement.lines[-1].balance_after
    assert statement.period_end == END_OF_LAST_MONTH


def test_months_chain_and_end_at_the_balance(history):
    september = statement_for_month(account=history.checking, month=BEFORE_MONTH)
    october = statement_for_month(account=history.checking, month=LAST_MONTH)
    november = statement_for_month(account=history.checking, month=THIS_MONTH)
    assert (september.opening_balance, september.closing_balance) == (0, 300_00)
    assert october.opening_balance == september.closing_balance
    assert november.opening_balance == october.closing_balance
    assert november.closing_balance == history.checking.balance == sum(
        Entry.objects.filter(account=history.checking).values_list("amount", flat=True)
    )


def test_month_boundaries_are_the_banks_local_time(history):
    october = statement_for_month(account=history.checking, month=LAST_MONTH)
    november = statement_for_month(account=history.checking, month=THIS_MONTH)
    assert october.lines[-1].reference == "ATM"  # the last day at 23:30 in Paris
    assert [line.reference for line in november.lines] == ["Late"]  # the 1st at 00:10 in Paris, the day before in UTC


def test_a_quiet_month_has_no_lines_and_an_unchanged_balance(history):
    august = statement_for_month(account=history.checking, month=EARLIER_MONTH)
    assert august.lines == [] and august.opening_balance == august.closing_balance == 0
    quiet = statement_for_month(account=history.savings, month=THIS_MONTH)
    assert (quiet.lines, quiet.opening_balance, quiet.closing_balance) == ([], 200_00, 200_00)


def test_statement_months_newest_first(history):
    months = statement_months(accounts=[history.checking, history.savings])
    assert months == {history.checking.pk: [THIS_LABEL, LAST_LABEL, BEFORE_LABEL],
                      history.savings.pk: [LAST_LABEL]}


@pytest.mark.parametrize("value", ["2026-13", "2026-00", "26-10", "2026-1", "2026/10", "", None, 202610,
                                   "2026-10\n", "２０２６-10", "1850-01"])
def test_parse_month_refuses_anything_but_yyyy_mm(value):
    with pytest.raises(ApplicationError) as excinfo:
        parse_month(value, today=date(2026, 11, 25))
    assert excinfo.value.code == "validation_error" and "month" in excinfo.value.fields


def test_parse_month_refuses_the_future_and_takes_the_current_month():
    assert parse_month("2026-11", today=date(2026, 11, 25)) == date(2026, 11, 1)
    assert parse_month("2025-01", today=date(2026, 11, 25)) == date(2025, 1, 1)
    with pytest.raises(ApplicationError):
        parse_month("2026-12", today=date(2026, 11, 25))


def test_csv_neutralises_text_and_keeps_amounts_numeric(history):
    statement = statement_for_month(account=history.checking, month=LAST_MONTH)
    raw = statement_csv(statement)
    assert raw.startswith(f'"Account","{history.checking.iban}"\r\n')  # every field quoted
    rows = assert_spreadsheet_safe(raw)
    assert rows == list(csv.reader(io.StringIO(raw)))
    summary = {row[0]: row[1:] for row in rows[:7]}
    assert summary["Account"] == [history.checking.iban]
    assert summary["Opening balance"] == ["300.00"]
    assert summary["Money in"] == ["1225.00"] and summary["Money out"] == ["290.00"]
    assert summary["Closing balance"] == ["1235.00"]
    assert rows[7] == []
    assert rows[8] == ["Date", "Description", "Counterparty", "Reference", "Amount", "Balance after", "Transaction"]
    lines = rows[9:]
    assert len(lines) == 5
    by_reference = {line[3]: line for line in lines}
    injected = by_reference["'" + INJECTION]
    assert injected[2] == EXTERNAL_IBAN and injected[4] == "-50.00" and injected[5] == "1450.00"
    assert by_reference["'-Lunch"][4] == "25.00"
    assert by_reference["ATM"][0] == END_OF_LAST_MONTH.isoformat()
    # No cell that a spreadsheet would run as a formula, except the amounts Flux wrote itself.
    for line in lines:
        for index, cell in enumerate(line):
            if index not in (4, 5):
                assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), cell


SEPARATOR_INJECTIONS = ["x;=1+1;y", "x,=1+1,y", "Rent; @SUM(A1:A9)", "a;-2+3+cmd|' /C calc'!A0"]


def test_a_reference_with_separators_cannot_become_a_formula_cell(alice, bob_account, open_account, agnes):
    """Issue 10, finding 9: `x;=1+1;y` was written unquoted, and a spreadsheet splitting on `;` (the
    French default) made `=1+1` a cell of its own, a formula."""
    account = open_account(alice, balance=100_00)
    for reference in SEPARATOR_INJECTIONS:
        transfer_create(initiator=alice, source_account_id=account.pk, destination_iban=bob_account.iban,
                        amount=1_00, reference=reference)
    raw = statement_csv(statement_for_month(account=account, month=THIS_MONTH))

    rows = assert_spreadsheet_safe(raw)  # read with `,` and with `;`, and split naively
    lines = rows[9:]
    assert [line[3] for line in lines[1:]] == [safe_cell(reference) for reference in SEPARATOR_INJECTIONS]
    assert [line[4] for line in lines] == ["100.00", "-1.00", "-1.00", "-1.00", "-1.00"]  # still numbers
    assert "\"x;'=1+1;y\"" in raw


def test_filename(history):
    statement = statement_for_month(account=history.checking, month=LAST_MONTH)
    assert statement_filename(statement, "csv") == f"flux-{history.checking.iban}-{LAST_LABEL}.csv"


def test_pdf_is_an_a4_statement_with_iban_and_totals(history):
    statement = statement_for_month(account=history.checking, month=LAST_MONTH)
    content = statement_pdf(statement)
    assert content.startswith(b"%PDF")
    reader = PdfReader(io.BytesIO(content))
    page = reader.pages[0]
    assert (round(float(page.mediabox.width)), round(float(page.mediabox.height))) == (595, 842)
    text = "\n".join(page.extract_text() for page in reader.pages).replace("\xa0", " ")
    for expected in (group_iban(history.checking.iban), LAST_LABEL, "300.00 EUR", "1,225.00 EUR", "-290.00 EUR",
                     "1,235.00 EUR", "Salary", "-50.00", group_iban(EXTERNAL_IBAN), "Alice"):
        assert expected in text, expected
    assert "1225.00" not in text and history.checking.iban not in text  # grouped, as people read them


def test_pdf_in_french_groups_thousands_the_french_way(history):
    with translation.override("fr"):
        content = statement_pdf(statement_for_month(account=history.checking, month=LAST_MONTH))
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages).replace("\xa0", " ")
    for expected in ("1 225,00 EUR", "1 235,00 EUR", "-290,00 EUR", "-50,00", group_iban(history.checking.iban)):
        assert expected in text, expected


def test_grouping_helpers_for_statements_and_receipts():
    assert group_iban("NL91FLUX0417164300") == "NL91 FLUX 0417 1643 00"
    assert group_iban(" NL91 FLUX0417164300 ") == "NL91 FLUX 0417 1643 00"
    with translation.override("en"):
        assert format_money(448298, "EUR") == "4,482.98\xa0EUR"
        assert format_money(-5) == "-0.05"
    with translation.override("fr"):
        assert format_money(448298, "EUR") == "4\xa0482,98\xa0EUR"


def test_pdf_of_a_long_month_spans_pages_and_of_an_empty_one_says_so(history, agnes):
    from banking.services import deposit_create
    for day in range(1, 29):
        for hour in (8, 10, 14):
            deposit_create(initiator=agnes, account_id=history.savings.pk, amount=1_00,
                           reference=f"Coins “{day}” €", at=on(EARLIER_MONTH, day, hour))
    long = statement_pdf(statement_for_month(account=history.savings, month=EARLIER_MONTH))
    reader = PdfReader(io.BytesIO(long))
    assert len(reader.pages) >= 2
    assert "Date" in reader.pages[1].extract_text()  # the table header is repeated
    empty = statement_pdf(statement_for_month(account=history.savings, month=BEFORE_MONTH))
    assert "No entries this month." in PdfReader(io.BytesIO(empty)).pages[0].extract_text()


def test_chart_money_in_and_out_per_month(history, alice):
    figures = money_in_out_by_month(customer=alice)
    assert list(figures) == ["EUR"]
    months = figures["EUR"]
    assert len(months) == 12
    assert [month["month"] for month in months][-4:] == [EARLIER_LABEL, BEFORE_LABEL, LAST_LABEL, THIS_LABEL]
    first = THIS_MONTH
    for _step in range(11):
        first = previous_month(first)
    assert months[0]["month"] == first.strftime("%Y-%m")
    by_month = {row["month"]: (row["money_in"], row["money_out"]) for row in months}
    assert by_month[BEFORE_LABEL] == (300_00, 0)
    # The 200.00 moved from checking to savings is neither money in nor money out.
    assert by_month[LAST_LABEL] == (1225_00, 90_00)
    assert by_month[THIS_LABEL] == (10_00, 0)
    assert by_month[EARLIER_LABEL] == (0, 0)


def test_chart_of_another_customer_and_a_shorter_window(history, bob):
    figures = money_in_out_by_month(customer=bob, months=2)
    assert figures == {"EUR": [
        {"month": LAST_LABEL, "money_in": 0, "money_out": 25_00},
        {"month": THIS_LABEL, "money_in": 0, "money_out": 0},
    ]}


def test_chart_without_accounts_is_empty(db):
    from banking.tests.factories import CustomerFactory

    assert money_in_out_by_month(customer=CustomerFactory()) == {}


def test_a_french_statement_names_the_kinds_of_transactions_in_french(history):
    """The model's choice labels are translated: a French customer's statement said "Cash deposit"
    and "Transfer" in English before."""
    with translation.override("fr"):
        statement = statement_for_month(account=history.checking, month=LAST_MONTH)
        rows = list(csv.reader(io.StringIO(statement_csv(statement))))
    descriptions = {line[1] for line in rows[9:]}
    assert "Virement" in descriptions and "Transfer" not in descriptions
    assert descriptions <= {"Virement", "Virement vers une autre banque", "Dépôt d’espèces", "Retrait d’espèces"}
