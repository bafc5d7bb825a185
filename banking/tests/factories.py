"""Factories for the people and accounts the ledger tests need.

Users are plain rows; accounts are opened and funded through the services, as the bank would,
so every balance is backed by entries from the start.

The people are identity's (identity/tests/factories.py); the ledger's checks are in
banking/tests/ledger.py. At the end, plain helpers (no fixtures) the service tests share."""

from __future__ import annotations

import factory

from banking.models import Account, AccountKind, Entry, Transaction, TransactionStatus
from banking.services import account_open, deposit_create, transaction_approve, transfer_create
from identity.models import User
from identity.tests.factories import AgentFactory, CustomerFactory


class AccountFactory(factory.Factory):
    """Opens a customer account through `account_open` (so it gets a real IBAN and an audit event).
    `opened_by` defaults to one shared agent, "opener"."""

    class Meta:
        model = Account

    customer = factory.SubFactory(CustomerFactory)
    kind = AccountKind.CHECKING
    currency = "EUR"
    overdraft_limit = 0
    opened_by = factory.LazyFunction(lambda: AgentFactory(username="opener"))

    @classmethod
    def _create(cls, model_class, *, customer, opened_by, **kwargs):
        return account_open(actor=opened_by, customer_id=customer.pk, **kwargs)

    @classmethod
    def _build(cls, model_class, *args, **kwargs):
        raise NotImplementedError("accounts are opened through the service; use AccountFactory()")


def fund(account: Account, amount: int, *, agent: User, approver: User) -> Transaction:
    """Pay `amount` minor units in at the counter; a deposit above the cash threshold is approved."""
    txn = deposit_create(initiator=agent, account_id=account.pk, amount=amount, reference="Opening deposit")
    if txn.status == TransactionStatus.PENDING:
        txn = transaction_approve(approver=approver, transaction_id=txn.pk)
    account.refresh_from_db()
    return txn


# --- Service test helpers ---------------------------------------------------------------------

EXTERNAL_IBAN = "DE89370400440532013000"  # a valid German IBAN (another bank)


def fresh(account: Account) -> Account:
    account.refresh_from_db()
    return account


def entries_of(txn: Transaction) -> list[Entry]:
    return list(Entry.objects.filter(transaction=txn).order_by("pk"))


def pending_transfer(initiator, source: Account, destination: Account, amount: int = 10_000_00, **kwargs):
    txn = transfer_create(
        initiator=initiator, source_account_id=source.pk, destination_iban=destination.iban, amount=amount, **kwargs
    )
    assert txn.status == TransactionStatus.PENDING
    return txn
