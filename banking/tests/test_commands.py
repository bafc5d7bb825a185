"""The management commands: seed_demo, expire_pending, purge_idempotency_keys.

Self-contained fixtures (no dependency on the shared conftest): the commands are about whole
databases, so each test builds exactly what it needs."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db.models import Sum
from django.utils import timezone

from audit.models import AuditEvent
from banking.iban import is_flux_iban, parse_iban
from banking.management.commands.seed_demo import ACCOUNTS, DEMO_PASSWORD, DEMO_USERNAMES, demo_history
from banking.models import (
    BOOKED_STATUSES,
    Account,
    AccountKind,
    ClearingRun,
    Entry,
    Statement,
    StatementEntryOutcome,
    SuspenseItem,
    Transaction,
    TransactionKind,
    TransactionStatus,
)
from banking.services import account_open, deposit_create, transfer_create
from core.models import IdempotencyKey
from core.money import decimal_to_minor
from core.testing.api import client_for, obtain_tokens
from identity.models import Role, User
from identity.services import customer_create


def run(*args: str, **options) -> str:
    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO(), **options)
    return out.getvalue()


def database_counts() -> dict[str, int]:
    return {
        model.__name__: model.objects.count()
        for model in (User, Group, Account, Transaction, Entry, AuditEvent, IdempotencyKey)
    }


def assert_ledger_invariants() -> None:
    assert Entry.objects.aggregate(total=Sum("amount"))["total"] == 0
    for account in Account.objects.all():
        entries = list(account.entries.order_by("pk").values_list("amount", "balance_after"))
        assert account.balance == sum(amount for amount, _ in entries), account.iban
        running = 0
        for amount, balance_after in entries:
            running += amount
            assert balance_after == running, account.iban
        pending_holds = Transaction.objects.filter(source=account, status=TransactionStatus.PENDING).aggregate(
            total=Sum("hold_amount")
        )["total"]
        assert account.held == (pending_holds or 0), account.iban
        if not account.is_internal:
            assert account.available >= 0, account.iban
    for txn in Transaction.objects.filter(status__in=BOOKED_STATUSES):
        amounts = list(txn.entries.values_list("amount", flat=True))
        assert len(amounts) >= 2 and sum(amounts) == 0, txn.pk
    assert not Entry.objects.exclude(transaction__status__in=BOOKED_STATUSES).exists()


@pytest.fixture
def debug(settings):
    settings.DEBUG = True
    return settings


@pytest.fixture
def seeded(db, debug) -> str:
    return run("seed_demo")


# --- seed_demo ----------------------------------------------------------------------------------


@pytest.mark.parametrize("hour", [0, 9, 23])
def test_demo_history_is_deterministic_and_never_overdraws(hour):
    """For every day of a year: the same `now` gives the same plan, all of it in the past, and no
    customer account ever goes below its overdraft limit (holds included)."""
    limits = {key: limit for key, _owner, _kind, limit in ACCOUNTS}
    threshold = decimal_to_minor(Decimal("10000.00"))
    start = timezone.make_aware(datetime(2026, 1, 1, hour, 30))
    for day in range(366):
        now = start + timedelta(days=day)
        plan = demo_history(now)
        assert plan == demo_history(now)
        assert all(movement.at < now for movement in plan)
        available = dict(limits)
        for movement in plan:
            if movement.kind == "deposit":
                available[movement.account] += movement.amount
                continue
            available[movement.account] -= movement.amount  # posted, or held while pending
            assert available[movement.account] >= 0, (now, movement)
            if movement.to in available and movement.amount < threshold:
                available[movement.to] += movement.amount


def test_seed_demo_creates_the_cast_with_the_demo_password(seeded):
    users = {user.username: user for user in User.objects.filter(username__in=DEMO_USERNAMES)}
    assert set(users) == {"alice", "bob", "agnes", "sam"}
    for user in users.values():
        assert user.check_password(DEMO_PASSWORD), user.username
        assert user.is_active
    assert users["agnes"].role == Role.AGENT
    assert users["sam"].role == Role.SUPERVISOR and not users["sam"].is_superuser
    # The read-only admin by role (identity/permissions.py), nothing granted by the seed itself.
    assert not Group.objects.exists()
    for staff in (users["agnes"], users["sam"]):
        assert not staff.groups.exists() and not staff.user_permissions.exists()
        assert staff.has_perm("banking.view_transaction")
        assert not staff.has_perm("banking.change_transaction") and not staff.has_perm("banking.view_idempotencykey")
    assert users["sam"].has_perm("audit.view_auditevent") and not users["agnes"].has_perm("audit.view_auditevent")
    for username in ("alice", "bob"):
        customer = users[username]
        assert customer.role == Role.CUSTOMER and not customer.has_perm("banking.view_account")
        assert customer.first_name and customer.last_name and customer.email and customer.phone and customer.address
        assert AuditEvent.objects.filter(action="customer.created", target_id=str(customer.pk)).exists()
    kinds = sorted(Account.objects.filter(customer=users["alice"]).values_list("kind", flat=True))
    assert kinds == [AccountKind.CHECKING, AccountKind.SAVINGS]
    assert list(Account.objects.filter(customer=users["bob"]).values_list("kind", flat=True)) == [AccountKind.CHECKING]
    assert "alice" in seeded and DEMO_PASSWORD in seeded


def test_seed_demo_writes_months_of_history_through_the_services(seeded):
    posted = Transaction.objects.filter(status=TransactionStatus.POSTED)
    assert Transaction.objects.filter(status__in=BOOKED_STATUSES).count() > 50
    oldest = posted.order_by("created_at").first().created_at
    assert timezone.now() - oldest > timedelta(days=100)
    for kind in TransactionKind:
        assert posted.filter(kind=kind).exists(), kind
    # Salaries, rent, groceries, savings, transfers between alice and bob.
    booked = Transaction.objects.filter(status__in=BOOKED_STATUSES)
    for reference in ("Salary", "Rent", "Groceries", "Monthly savings"):
        assert booked.filter(reference__startswith=reference).exists(), reference
    assert (
        posted.filter(
            kind=TransactionKind.TRANSFER, source__customer__username="alice", destination__customer__username="bob"
        ).exists()
        or posted.filter(
            kind=TransactionKind.TRANSFER, source__customer__username="bob", destination__customer__username="alice"
        ).exists()
    )
    # One transfer to another country's bank, with a valid IBAN.
    foreign = [iban for iban in posted.values_list("external_iban", flat=True) if iban and iban[:2] != "NL"]
    assert foreign and all(not is_flux_iban(parse_iban(iban)) for iban in foreign)
    # Money with other banks: the history's transfers left in a clearing run and the correspondent's
    # statement booked them; it returned the latest, brought alice money from Jean Dupont and left a
    # credit to an IBAN no account holds in suspense. Alice's gîte deposit waits for the next run.
    assert ClearingRun.objects.count() == 1 and Statement.objects.count() == 1
    sent = Transaction.objects.filter(kind=TransactionKind.EXTERNAL_TRANSFER, status=TransactionStatus.SENT)
    assert sent.count() > 5 and not sent.exclude(statement_entries__outcome=StatementEntryOutcome.BOOKED).exists()
    returned = Transaction.objects.get(status=TransactionStatus.RETURNED)
    assert returned.returns.get().destination_id == returned.source_id
    incoming = posted.get(kind=TransactionKind.INCOMING_TRANSFER, destination__customer__username="alice")
    assert (incoming.payer_name, incoming.amount) == ("Jean Dupont", 125_00)
    assert SuspenseItem.objects.count() == 1
    waiting = posted.get(kind=TransactionKind.EXTERNAL_TRANSFER)
    assert waiting.source.customer.username == "alice" and waiting.clearing_run_id is None
    # A reversal, linked to what it reverses: asked for by agnes, approved by sam (four eyes).
    reversal = Transaction.objects.get(kind=TransactionKind.REVERSAL)
    assert reversal.reverses.status == TransactionStatus.POSTED and reversal.status == TransactionStatus.POSTED
    assert (reversal.initiated_by.username, reversal.decided_by.username) == ("agnes", "sam")
    # A large transfer waits for a second staff member, its amount held.
    pending = Transaction.objects.get(status=TransactionStatus.PENDING)
    assert pending.amount >= decimal_to_minor(Decimal("10000.00"))
    assert pending.hold_amount == pending.amount and pending.source.held == pending.amount
    assert pending.expires_at > timezone.now()
    assert pending.initiated_by.username == "alice"


def test_seed_demo_keeps_the_ledger_invariants(seeded):
    assert_ledger_invariants()


def test_seed_demo_twice_creates_nothing_more(seeded):
    before = database_counts()
    balances = dict(Account.objects.values_list("pk", "balance"))
    out = run("seed_demo")
    assert "nothing to do" in out
    assert database_counts() == before
    assert dict(Account.objects.values_list("pk", "balance")) == balances


@pytest.mark.django_db
def test_seed_demo_refuses_without_debug_unless_forced(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG"):
        run("seed_demo")
    assert not User.objects.exists() and not Transaction.objects.exists()
    run("seed_demo", "--force")
    assert User.objects.filter(username__in=DEMO_USERNAMES).count() == 4
    assert_ledger_invariants()


def test_seed_demo_sets_the_demo_password_even_when_the_validators_refuse_it(db, debug):
    debug.AUTH_PASSWORD_VALIDATORS = [
        {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 30}}
    ]
    with pytest.raises(ValidationError):
        validate_password(DEMO_PASSWORD)
    run("seed_demo")
    for user in User.objects.filter(username__in=DEMO_USERNAMES):
        assert user.check_password(DEMO_PASSWORD), user.username
    assert AuditEvent.objects.filter(action="customer.created").count() == 2


@pytest.mark.django_db
def test_seed_demo_refuses_a_database_with_only_some_demo_users(debug):
    User.objects.create_user(username="alice", password="another-password-2026")
    before = database_counts()
    with pytest.raises(CommandError, match="alice"):
        run("seed_demo")
    assert database_counts() == before


# --- expire_pending -----------------------------------------------------------------------------


@pytest.fixture
def teller(db) -> User:
    return User.objects.create_user(username="teller", password=DEMO_PASSWORD, role=Role.AGENT)


@pytest.fixture
def funded_account(teller) -> Account:
    customer = customer_create(
        actor=teller, username="carol", first_name="Carol", last_name="Smit", email="carol@example.com"
    )
    account = account_open(actor=teller, customer_id=customer.pk, kind=AccountKind.CHECKING)
    deposit_create(initiator=teller, account_id=account.pk, amount=1_000_00)
    return account


def test_expire_pending_voids_expired_transfers_and_releases_their_holds(settings, teller, funded_account):
    settings.FLUX_APPROVAL_THRESHOLD = Decimal("100.00")
    settings.FLUX_PENDING_TTL_DAYS = 7
    expired = transfer_create(
        initiator=teller,
        source_account_id=funded_account.pk,
        destination_iban="DE89370400440532013000",
        amount=300_00,
        at=timezone.now() - timedelta(days=8),
    )
    fresh = transfer_create(
        initiator=teller, source_account_id=funded_account.pk, destination_iban="DE89370400440532013000", amount=200_00
    )
    funded_account.refresh_from_db()
    assert expired.status == fresh.status == TransactionStatus.PENDING
    assert funded_account.held == 500_00

    out = run("expire_pending")

    assert "Voided 1 " in out
    expired.refresh_from_db()
    fresh.refresh_from_db()
    funded_account.refresh_from_db()
    assert expired.status == TransactionStatus.VOIDED
    assert fresh.status == TransactionStatus.PENDING
    assert funded_account.held == 200_00 and funded_account.balance == 1_000_00
    assert not expired.entries.exists()
    assert AuditEvent.objects.filter(action="transaction.expired", target_id=str(expired.pk)).count() == 1
    assert "Voided 0 " in run("expire_pending")
    assert_ledger_invariants()
    # The API names the status as DESIGN.md does (it was "expired"), and the transfers list filters by it.
    client = client_for(access=obtain_tokens(teller, DEMO_PASSWORD)["access"])
    assert client.get(f"/api/v1/transactions/{expired.pk}/").json()["status"] == "voided"
    listed = client.get("/api/v1/transfers/", {"status": "voided"}).json()
    assert [row["id"] for row in listed["results"]] == [expired.pk]


# --- purge_idempotency_keys ---------------------------------------------------------------------


def make_key(user: User, key: str, *, age: timedelta) -> IdempotencyKey:
    return IdempotencyKey.objects.create(
        user=user,
        key=key,
        fingerprint="0" * 64,
        response_status=201,
        response_body={"id": 1},
        created_at=timezone.now() - age,
    )


def test_purge_idempotency_keys_deletes_old_keys_and_keeps_fresh_ones(settings, teller):
    settings.FLUX_IDEMPOTENCY_TTL_HOURS = 48
    make_key(teller, "old", age=timedelta(hours=49))
    make_key(teller, "older", age=timedelta(days=30))
    make_key(teller, "fresh", age=timedelta(hours=47))
    make_key(teller, "new", age=timedelta(minutes=1))

    out = run("purge_idempotency_keys")

    assert "Deleted 2 " in out
    assert set(IdempotencyKey.objects.values_list("key", flat=True)) == {"fresh", "new"}


def test_purge_idempotency_keys_keeps_every_key_at_least_24_hours(settings, teller):
    settings.FLUX_IDEMPOTENCY_TTL_HOURS = 1
    make_key(teller, "two-hours", age=timedelta(hours=2))
    make_key(teller, "a-day-and-more", age=timedelta(hours=25))

    out = run("purge_idempotency_keys")

    assert "Deleted 1 " in out and "24 hours" in out
    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["two-hours"]
