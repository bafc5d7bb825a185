"""The banking API tests' requests: the URLs and a helper per operation they send (a transfer, cash
at the counter, an account's lifecycle), and an account's balance read again. Plain functions,
usable from threads and transactional tests too; the people and accounts are the root
conftest.py's fixtures."""

from __future__ import annotations

import uuid
from datetime import datetime

from django.utils import timezone
from rest_framework.test import APIClient

from banking.api.views import posted_transfer_answer
from banking.models import Account
from banking.services import transfer_posted_at_once
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


def at_once(initiator, source: Account, destination_iban: str, amount: int, reference: str = "", *,
            key: str | None = None, at: datetime | None = None, beneficiary_name: str = "") -> dict | None:
    """What POST transfers/ does first (banking/api/transfers.py)."""
    at = at or timezone.now()
    return transfer_posted_at_once(
        initiator=initiator, key=key or str(uuid.uuid4()), fingerprint=uuid.uuid4().hex,
        source_account_id=source.pk, destination_iban=destination_iban, amount=amount, reference=reference,
        beneficiary_name=beneficiary_name, at=at,
        answer=posted_transfer_answer(initiator=initiator, source_account_id=source.pk, amount=amount,
                                      reference=reference, at=at),
    )
