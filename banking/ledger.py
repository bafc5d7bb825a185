"""Posting primitives. Callers have already locked every account they pass (banking.locks)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from banking.iban import generate_flux_iban
from banking.models import Account, AccountKind, AccountStatus, Entry, Transaction
from core.errors import ApplicationError


@dataclass(frozen=True)
class Leg:
    account: Account
    amount: int  # signed minor units: negative debits, positive credits
    counterparty: str


def ensure_open(account: Account) -> None:
    """Frozen accounts take no debit and no credit; closed ones nothing at all."""
    if account.status == AccountStatus.FROZEN:
        raise ApplicationError("account_frozen", f"Account {account.iban} is frozen.")
    if account.status == AccountStatus.CLOSED:
        raise ApplicationError("account_closed", f"Account {account.iban} is closed.")


def ensure_available(account: Account, amount: int) -> None:
    """A customer account may spend `amount` only if it stays within its overdraft limit."""
    if not account.is_internal and account.available < amount:
        raise ApplicationError(
            "insufficient_funds", f"Account {account.iban} does not have enough available funds."
        )


def post(txn: Transaction, legs: list[Leg], *, at: datetime) -> list[Entry]:
    """Write the entries of `txn` and move the stored balances with them.

    The legs must sum to zero. Each debited customer account must stay within its overdraft
    limit after the posting (holds included), or `insufficient_funds` is raised before any write.
    """
    if sum(leg.amount for leg in legs) != 0 or len(legs) < 2:
        raise ValueError("a posted transaction needs two or more entries summing to zero")
    for leg in legs:
        if leg.amount < 0:
            ensure_available(leg.account, -leg.amount)
    entries = []
    for leg in legs:
        leg.account.balance += leg.amount
        leg.account.save(update_fields=["balance"])
        entries.append(
            Entry(
                transaction=txn,
                account=leg.account,
                amount=leg.amount,
                balance_after=leg.account.balance,
                counterparty=leg.counterparty,
                created_at=at,
            )
        )
    return Entry.objects.bulk_create(entries)


def internal_account(kind: AccountKind, currency: str) -> Account:
    """The bank's cash vault or external clearing account for a currency, created on first use."""
    account = Account.objects.filter(kind=kind, currency=currency).first()
    if account is not None:
        return account
    try:
        with transaction.atomic():  # a savepoint: a concurrent creator wins, we read its row
            return Account.objects.create(
                kind=kind, currency=currency, iban=generate_flux_iban(), opened_at=timezone.now()
            )
    except IntegrityError:
        return Account.objects.get(kind=kind, currency=currency)
