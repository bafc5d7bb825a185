"""`manage.py seed_demo`: demo users, accounts and about four months of history, for development.

Everything goes through the services (identity.services, banking.services), so the ledger
invariants hold and every change is audited like a real one. The history comes from a fixed
random seed: the same amounts, references and times (relative to the day it runs) every time.
"""

from __future__ import annotations

import random
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from banking.clearing.runs import clearing_run_create
from banking.clearing.samples import camt053_xml, demo_entries, next_opening_balance
from banking.clearing.statements import statement_import
from banking.models import Account, AccountKind, Transaction, TransactionKind, TransactionStatus
from banking.services import (
    account_open,
    deposit_create,
    transaction_approve,
    transaction_reverse,
    transfer_create,
    withdrawal_create,
)
from core.errors import ValidationFailed
from core.money import decimal_to_minor, format_minor
from identity.models import Role, User
from identity.services import customer_create

# Development only (README): never seed a database that holds real customers.
DEMO_PASSWORD = "flux-demo-2026"
RANDOM_SEED = 2026
HISTORY_DAYS = 120

STAFF = (
    {
        "username": "agnes",
        "role": Role.AGENT,
        "first_name": "Agnes",
        "last_name": "Visser",
        "email": "agnes.visser@flux.example",
    },
    {
        "username": "sam",
        "role": Role.SUPERVISOR,
        "first_name": "Sam",
        "last_name": "de Vries",
        "email": "sam.devries@flux.example",
    },
)
CUSTOMERS = (
    {
        "username": "alice",
        "first_name": "Alice",
        "last_name": "Martin",
        "email": "alice.martin@example.com",
        "phone": "+31 6 1234 5678",
        "address": "Keizersgracht 112\n1015 CV Amsterdam\nNetherlands",
    },
    {
        "username": "bob",
        "first_name": "Bob",
        "last_name": "Jansen",
        "email": "bob.jansen@example.com",
        "phone": "+31 6 8765 4321",
        "address": "Oudegracht 45\n3511 AB Utrecht\nNetherlands",
    },
)
DEMO_USERNAMES = tuple(person["username"] for person in STAFF + CUSTOMERS)
# (account key, owner, kind, overdraft limit in minor units)
ACCOUNTS = (
    ("alice.checking", "alice", AccountKind.CHECKING, 0),
    ("alice.savings", "alice", AccountKind.SAVINGS, 0),
    ("bob.checking", "bob", AccountKind.CHECKING, 500_00),
)

# Other banks' accounts (valid IBANs outside Flux, so transfers to them are external).
ALICE_LANDLORD = "NL20INGB0001234567"
BOB_LANDLORD = "NL44RABO0123456789"
SUPERMARKET = "NL91ABNA0417164300"
ENERGY = "NL90ABNA0602837741"
NOTARY = "NL76TRIO0390462179"
HOLIDAY_GITE = "FR1420041010050500013M02606"  # a foreign IBAN
# Who holds them, as the customers name them when they pay (beneficiary_name): the history shows it.
PAYEE_NAMES = {
    ALICE_LANDLORD: "Van Dijk Vastgoed",
    BOB_LANDLORD: "Jansen Verhuur",
    SUPERMARKET: "Albert Heijn",
    ENERGY: "Vattenfall",
    NOTARY: "Notariskantoor De Boer",
    HOLIDAY_GITE: "Gîte des Collines",
}

MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
OPENING_DEPOSIT = 4_900_00  # the largest cash amount: kept under the cash approval threshold
DOWN_PAYMENT = 10_500_00  # at or above the approval threshold: stays pending
DUPLICATE_REASON = "Sent twice by mistake; the customer asked for the refund."


@dataclass(frozen=True)
class Movement:
    """One planned operation. `account` is an account key; `to` an account key or an IBAN."""

    at: datetime
    kind: str  # "deposit", "withdrawal" or "transfer"
    account: str
    amount: int
    reference: str
    to: str = ""
    reverse_reason: str = ""  # reversed once the whole history is in


def _at(day: date, rng: random.Random, hour: int | None = None) -> datetime:
    # Daytime only: no daylight-saving gap, and the order of a day's movements stays natural.
    moment = time(hour if hour is not None else rng.randint(8, 19), rng.randint(0, 59))
    return timezone.make_aware(datetime.combine(day, moment))


def _days(first: date, last: date) -> Iterator[date]:
    day = first
    while day <= last:
        yield day
        day += timedelta(days=1)


def demo_history(now: datetime) -> list[Movement]:
    """The demo history for the HISTORY_DAYS before `now`, oldest first. A fixed random seed: the
    same `now` always gives the same history (and another day the same kind of story)."""
    rng = random.Random(RANDOM_SEED)
    today = timezone.localdate(now)
    first, last = today - timedelta(days=HISTORY_DAYS), today - timedelta(days=1)
    plan = [
        Movement(_at(first, rng, 9), "deposit", "alice.checking", 2_800_00, "Opening deposit"),
        Movement(_at(first, rng, 10), "deposit", "alice.savings", OPENING_DEPOSIT, "Savings brought from old bank"),
        Movement(_at(first, rng, 11), "deposit", "bob.checking", 2_400_00, "Opening deposit"),
    ]
    for day in _days(first + timedelta(days=1), last):
        month = MONTHS[day.month - 1]
        if day.day == 1:
            plan.append(
                Movement(_at(day, rng), "transfer", "alice.checking", 1_250_00, f"Rent {month}", to=ALICE_LANDLORD)
            )
            plan.append(Movement(_at(day, rng), "transfer", "bob.checking", 1_050_00, f"Rent {month}", to=BOB_LANDLORD))
        if day.day == 2:
            plan.append(
                Movement(_at(day, rng), "transfer", "alice.checking", 600_00, "Monthly savings", to="alice.savings")
            )
        if day.day == 12:
            for owner in ("alice", "bob"):
                amount = rng.randint(70_00, 140_00)
                plan.append(
                    Movement(_at(day, rng), "transfer", f"{owner}.checking", amount, f"Energy bill {month}", to=ENERGY)
                )
        if day.day == 25:
            plan.append(
                Movement(_at(day, rng, 9), "deposit", "alice.checking", 3_412_50, f"Salary {month} - Northwind BV")
            )
            plan.append(
                Movement(_at(day, rng, 9), "deposit", "bob.checking", 2_870_00, f"Salary {month} - Bakkerij de Zon")
            )
        if day.weekday() == 5:  # Saturday shopping
            plan.append(
                Movement(
                    _at(day, rng), "transfer", "alice.checking", rng.randint(45_00, 120_00), "Groceries", to=SUPERMARKET
                )
            )
            plan.append(
                Movement(
                    _at(day, rng), "transfer", "bob.checking", rng.randint(35_00, 95_00), "Groceries", to=SUPERMARKET
                )
            )
        if day.weekday() == 3 and day.isocalendar().week % 2 == 0:  # every other Thursday
            owner = rng.choice(("alice", "bob"))
            plan.append(
                Movement(
                    _at(day, rng),
                    "withdrawal",
                    f"{owner}.checking",
                    rng.choice((50_00, 100_00, 150_00, 200_00)),
                    "Cash at the counter",
                )
            )
        if day.weekday() == 4 and rng.random() < 0.35:  # Friday evenings out, shared
            payer, payee = rng.choice((("alice", "bob"), ("bob", "alice")))
            reference = rng.choice(
                ("Dinner at De Kas", "Cinema tickets", "Drinks", "Concert tickets", "Weekend on Texel, my half")
            )
            plan.append(
                Movement(
                    _at(day, rng, 20),
                    "transfer",
                    f"{payer}.checking",
                    rng.randint(15_00, 90_00),
                    reference,
                    to=f"{payee}.checking",
                )
            )
    # One-offs: a holiday booked abroad, a bonus put aside, a transfer sent twice by mistake
    # (reversed at the end), and a house down payment waiting for a second staff member.
    gite_day = first + timedelta(days=40)
    plan.append(
        Movement(
            _at(gite_day, rng, 21),
            "transfer",
            "alice.checking",
            650_00,
            "Gite Dordogne, deposit for August",
            to=HOLIDAY_GITE,
        )
    )
    bonus_day = first + timedelta(days=70)
    plan.append(Movement(_at(bonus_day, rng, 9), "deposit", "alice.savings", 4_200_00, "Annual bonus"))
    duplicate_day = today - timedelta(days=5)
    for minute in (0, 2):
        plan.append(
            Movement(
                _at(duplicate_day, rng, 12) + timedelta(minutes=minute),
                "transfer",
                "bob.checking",
                48_00,
                "Birthday present for Eva",
                to="alice.checking",
                reverse_reason=DUPLICATE_REASON if minute else "",
            )
        )
    plan.append(
        Movement(
            now - timedelta(days=1),
            "transfer",
            "alice.savings",
            DOWN_PAYMENT,
            "Down payment, Prinsengracht 7",
            to=NOTARY,
        )
    )
    plan.sort(key=lambda movement: movement.at)
    return plan


class Command(BaseCommand):
    help = "Create demo users (alice, bob, agnes, sam), accounts and four months of history. Development only."

    def add_arguments(self, parser):
        parser.add_argument(
            "--force", action="store_true", help="Seed even though DEBUG is off (never on a real bank's database)."
        )

    def handle(self, *args, force: bool = False, **options):
        if not settings.DEBUG and not force:
            raise CommandError(
                "seed_demo creates users with a published password, so it only runs with DEBUG on. "
                "Pass --force to seed anyway (never on a database with real customers)."
            )
        existing = set(User.objects.filter(username__in=DEMO_USERNAMES).values_list("username", flat=True))
        if existing == set(DEMO_USERNAMES):
            self.stdout.write("Demo data is already there (alice, bob, agnes, sam); nothing to do.")
            return
        if existing:
            raise CommandError(
                f"Some demo users exist ({', '.join(sorted(existing))}) but not all of them; seed_demo only "
                "seeds a database without them. Use a fresh database."
            )
        self._check_thresholds()
        # One transaction: either the whole demo is there or none of it (a rerun then starts clean).
        with transaction.atomic():
            staff = self._create_staff()
            customers = self._create_customers(actor=staff["agnes"])
            accounts = self._open_accounts(staff=staff, customers=customers)
            pending = self._play_history(staff=staff, customers=customers, accounts=accounts)
            self._settle_with_other_banks(staff=staff, customers=customers, accounts=accounts)
        self._summarize(accounts, pending)

    def _check_thresholds(self) -> None:
        # The scripted history assumes the default thresholds' ballpark; say so rather than fail midway.
        approval = decimal_to_minor(settings.FLUX_APPROVAL_THRESHOLD)
        cash = decimal_to_minor(settings.FLUX_CASH_APPROVAL_THRESHOLD)
        if not (1_250_00 < approval <= DOWN_PAYMENT) or cash <= OPENING_DEPOSIT:
            raise CommandError(
                "seed_demo's history needs FLUX_APPROVAL_THRESHOLD between 1250.01 and "
                f"{format_minor(DOWN_PAYMENT)} and FLUX_CASH_APPROVAL_THRESHOLD above {format_minor(OPENING_DEPOSIT)}; "
                f"they are {settings.FLUX_APPROVAL_THRESHOLD} and {settings.FLUX_CASH_APPROVAL_THRESHOLD}."
            )

    def _create_staff(self) -> dict[str, User]:
        staff = {}
        for person in STAFF:
            # Created directly: the staff service (agent_create) needs a supervisor to act and makes
            # up the password. The role alone decides what they may do and see, the read-only Django
            # admin included (identity/permissions.py): no flag, group or permission to grant here.
            # sam is no superuser.
            user = User.objects.create_user(password=DEMO_PASSWORD, **person)
            staff[user.username] = user
        return staff

    def _create_customers(self, *, actor: User) -> dict[str, User]:
        customers = {}
        for person in CUSTOMERS:
            try:
                customer = customer_create(actor=actor, password=DEMO_PASSWORD, **person)
            except ValidationFailed as exc:
                if set(exc.fields) != {"password"}:
                    raise
                # Stricter validators refuse the demo password: onboard with a long random one (no
                # password link is mailed then), then set the demo password directly (development only).
                customer = customer_create(actor=actor, password=secrets.token_urlsafe(32), **person)
                customer.set_password(DEMO_PASSWORD)
                customer.save(update_fields=["password"])
            customers[customer.username] = customer
        return customers

    def _open_accounts(self, *, staff: dict[str, User], customers: dict[str, User]) -> dict[str, Account]:
        opened_at = timezone.make_aware(
            datetime.combine(timezone.localdate() - timedelta(days=HISTORY_DAYS), time(8, 30))
        )
        accounts = {}
        for key, owner, kind, overdraft_limit in ACCOUNTS:
            # agnes opens the accounts; one with an overdraft is sam's, as only a supervisor grants one.
            actor = staff["sam"] if overdraft_limit else staff["agnes"]
            account = account_open(
                actor=actor, customer_id=customers[owner].pk, kind=kind, overdraft_limit=overdraft_limit
            )
            accounts[key] = account
        # The services stamp "now"; the history starts four months ago, so date the accounts and
        # the customers back to then (bookkeeping dates only, no money involved).
        Account.objects.filter(pk__in=[account.pk for account in accounts.values()]).update(opened_at=opened_at)
        User.objects.filter(pk__in=[customer.pk for customer in customers.values()]).update(date_joined=opened_at)
        return accounts

    def _play_history(
        self, *, staff: dict[str, User], customers: dict[str, User], accounts: dict[str, Account]
    ) -> list[Transaction]:
        agnes = staff["agnes"]
        owner_of = {key: customers[owner] for key, owner, _kind, _limit in ACCOUNTS}
        to_reverse: list[tuple[Transaction, str]] = []
        created: list[Transaction] = []
        for movement in demo_history(timezone.now()):
            account_id = accounts[movement.account].pk
            if movement.kind == "deposit":
                txn = deposit_create(
                    initiator=agnes,
                    account_id=account_id,
                    amount=movement.amount,
                    reference=movement.reference,
                    at=movement.at,
                )
            elif movement.kind == "withdrawal":
                txn = withdrawal_create(
                    initiator=agnes,
                    account_id=account_id,
                    amount=movement.amount,
                    reference=movement.reference,
                    at=movement.at,
                )
            else:
                destination = accounts[movement.to].iban if movement.to in accounts else movement.to
                txn = transfer_create(
                    initiator=owner_of[movement.account],
                    source_account_id=account_id,
                    destination_iban=destination,
                    amount=movement.amount,
                    reference=movement.reference,
                    beneficiary_name=PAYEE_NAMES.get(movement.to, ""),
                    at=movement.at,
                )
            created.append(txn)
            if movement.reverse_reason:
                to_reverse.append((txn, movement.reverse_reason))
        for txn, reason in to_reverse:
            # Reversals are booked now (the service takes no back-date): the correction is today's.
            # agnes asks for it and sam, the second pair of eyes, approves it.
            reversal = transaction_reverse(actor=agnes, transaction_id=txn.pk, reason=reason)
            transaction_approve(approver=staff["sam"], transaction_id=reversal.pk)
        return [txn for txn in created if txn.status == TransactionStatus.PENDING]

    def _settle_with_other_banks(
        self, *, staff: dict[str, User], customers: dict[str, User], accounts: dict[str, Account]
    ) -> None:
        """Money with other banks, as sam would have run it: the history's transfers to other
        banks leave in a clearing run (pain.001), then the correspondent's statement (camt.053,
        made up: banking.clearing.samples.demo_entries) books them, returns the latest one (AC04),
        brings alice 125.00 from Jean Dupont at a French bank and puts a credit to an IBAN no account
        holds in suspense. Then alice pays the gîte's deposit: a transfer to another bank that waits
        for the next run (sam's to start on the desk)."""
        sam = staff["sam"]
        clearing_run_create(initiator=sam)
        returned = Transaction.objects.filter(kind=TransactionKind.EXTERNAL_TRANSFER,
                                              status=TransactionStatus.SENT).order_by("-pk").first()
        statement_import(initiator=sam, content=camt053_xml(demo_entries(return_of=returned),
                                                            opening=next_opening_balance()))
        transfer_create(
            initiator=customers["alice"], source_account_id=accounts["alice.checking"].pk,
            destination_iban=HOLIDAY_GITE, amount=150_00, reference="Deposit summer holiday",
            beneficiary_name=PAYEE_NAMES[HOLIDAY_GITE],
        )

    def _summarize(self, accounts: dict[str, Account], pending: list[Transaction]) -> None:
        self.stdout.write(self.style.SUCCESS("Demo data created (development only)."))
        self.stdout.write(f"  Everyone's password: {DEMO_PASSWORD}")
        self.stdout.write("  agnes  agent (Django admin, read-only: customers, accounts, transactions)")
        self.stdout.write("  sam    supervisor (Django admin, read-only, the audit events too; not a superuser)")
        for customer in CUSTOMERS:
            self.stdout.write(f"  {customer['username']:<6} customer {customer['first_name']} {customer['last_name']}")
        for key, account in accounts.items():
            account.refresh_from_db()
            self.stdout.write(
                f"    {key:<15} {account.iban}  {format_minor(account.balance):>10} {account.currency}"
                + (f"  ({format_minor(account.held)} held)" if account.held else "")
            )
        total = Transaction.objects.filter(Q(source__in=accounts.values()) | Q(destination__in=accounts.values()))
        self.stdout.write(f"  {total.count()} transactions; waiting for approval:")
        for txn in pending:
            self.stdout.write(f"    #{txn.pk} {format_minor(txn.amount)} {txn.currency} {txn.reference!r}")
