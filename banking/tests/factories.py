"""Factories for the people and accounts the ledger tests need.

Users are plain rows; accounts are opened and funded through the services, as the bank would,
so every balance is backed by entries from the start.

At the end, plain helpers (no fixtures) that the service tests (test_services_*.py) share."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import factory
import pytest

from audit.models import AuditEvent
from banking.models import Account, AccountKind, Entry, Transaction, TransactionStatus
from banking.services import account_open, deposit_create, transaction_approve, transfer_create
from core.errors import ApplicationError
from identity.models import Role, User

TEST_PASSWORD = "flux-test-password-2026"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.test")
    role = Role.CUSTOMER
    password = factory.django.Password(TEST_PASSWORD)


class CustomerFactory(UserFactory):
    username = factory.Sequence(lambda n: f"customer{n}")
    role = Role.CUSTOMER


class AgentFactory(UserFactory):
    username = factory.Sequence(lambda n: f"agent{n}")
    role = Role.AGENT


class SupervisorFactory(UserFactory):
    username = factory.Sequence(lambda n: f"supervisor{n}")
    role = Role.SUPERVISOR


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


@contextmanager
def refused(code: str) -> Iterator[pytest.ExceptionInfo[ApplicationError]]:
    with pytest.raises(ApplicationError) as excinfo:
        yield excinfo
    assert excinfo.value.code == code, repr(excinfo.value)


def fresh(account: Account) -> Account:
    account.refresh_from_db()
    return account


def entries_of(txn: Transaction) -> list[Entry]:
    return list(Entry.objects.filter(transaction=txn).order_by("pk"))


def last_event() -> AuditEvent:
    return AuditEvent.objects.order_by("-pk").first()


def assert_audited(event: AuditEvent, *, actor, action: str, target_type: str, target_id: object) -> None:
    assert event.action == action
    assert event.actor_id == (actor.pk if actor else None)
    assert event.actor_username == (actor.username if actor else "")
    assert event.target_type == target_type
    assert event.target_id == str(target_id)


def assert_balanced(account: Account) -> None:
    """The stored balance is the sum of the account's entries."""
    total = sum(Entry.objects.filter(account=account).values_list("amount", flat=True))
    assert fresh(account).balance == total


def pending_transfer(initiator, source: Account, destination: Account, amount: int = 10_000_00, **kwargs):
    txn = transfer_create(
        initiator=initiator, source_account_id=source.pk, destination_iban=destination.iban, amount=amount, **kwargs
    )
    assert txn.status == TransactionStatus.PENDING
    return txn
