"""The banking API tests' requests: the URLs and a helper per operation they send (a transfer, cash
at the counter, an account's lifecycle), and an account's balance read again. Plain functions,
usable from threads and transactional tests too; the people and accounts are the root
conftest.py's fixtures."""

from __future__ import annotations

from rest_framework.test import APIClient

from banking.models import Account
from core.testing.api import API, idempotency_key, post

ACCOUNTS = f"{API}accounts/"
TRANSFERS = f"{API}transfers/"
DEPOSITS = f"{API}deposits/"
WITHDRAWALS = f"{API}withdrawals/"


def transfer(client: APIClient, source: Account, destination: str | Account, amount: str, *, key: str | None = "",
             **extra):
    """POST transfers/ from `source` to `destination` (an account or an IBAN), with a new
    Idempotency-Key unless `key` gives one (None: none)."""
    if isinstance(destination, Account):
        destination = destination.iban
    body = {"source_account": source.pk, "destination_iban": destination, "amount": amount} | extra
    return post(client, TRANSFERS, body, key=idempotency_key() if key == "" else key)


def cash(client: APIClient, url: str, account: Account, amount: str, **extra):
    """POST deposits/ or withdrawals/ (`url`) for `account`."""
    return post(client, url, {"account": account.pk, "amount": amount} | extra, key=idempotency_key())


def lifecycle(client, account: Account, action: str, reason: str | None = "Customer request"):
    """POST accounts/{id}/freeze/, unfreeze/ or close/ (`action`), with `reason` unless None."""
    return post(client, f"{ACCOUNTS}{account.pk}/{action}/", {} if reason is None else {"reason": reason})


def balance_of(account: Account) -> int:
    account.refresh_from_db()
    return account.balance
