"""The authorization matrix's table: for every API route and method, the request that exercises it
and the status each of five callers gets. test_authorization_matrix.py walks the URL configuration
and fails on any route+method without a row here, and on any row without a route.

Callers: `anon` (no token), `owner` (the customer who owns every object in the URL), `other`
(another customer), `agent`, `supervisor`. DESIGN.md's API table says who may do what; a row that
disagrees with it is a bug in the code, not a row to bend.

Each row's `call(world, caller)` builds its request from a `World`, whose objects are created on
first use, so a case only pays for what its URL needs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property

from django.conf import settings
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from banking.clearing.runs import clearing_run_create
from banking.clearing.samples import camt053_xml, credit
from banking.models import Account, Beneficiary, ClearingRun, SuspenseItem, Transaction, TransactionStatus
from banking.services import account_freeze, beneficiary_create, transfer_create
from banking.tests.clearing_factories import place_in_suspense
from banking.tests.factories import EXTERNAL_IBAN, AccountFactory, fund
from core.testing.users import TEST_PASSWORD
from identity.models import User
from identity.tests.factories import AgentFactory, CustomerFactory, SupervisorFactory
from notifications.models import Notification, NotificationKind
from workspace.imports.reader import HEADER as IMPORT_HEADER
from workspace.imports.services import import_create
from workspace.models import ImportBatch

CALLERS = ("anon", "owner", "other", "agent", "supervisor")

# Transfers at or above this are pending (the settings the matrix runs with), so a pending transfer
# needs only a small funded account and stays under an agent's approval limit.
APPROVAL_THRESHOLD = Decimal("500.00")
OWNER_FUNDS = 1_000_00  # below the cash approval threshold: the opening deposit posts at once
PRIVATE_REFERENCE = "mtx owner private reference"
PRIVATE_BENEFICIARY = "mtx owner private beneficiary"


# --- Who gets what ------------------------------------------------------------------------------


def public(ok: int) -> dict[str, int]:
    return dict.fromkeys(CALLERS, ok)


def signed_in(ok: int) -> dict[str, int]:
    return public(ok) | {"anon": 401}


def owner_or_staff(ok: int) -> dict[str, int]:
    """The owner's object: staff may act on it too; another customer must not learn it exists."""
    return signed_in(ok) | {"other": 404}


def owner_only(ok: int) -> dict[str, int]:
    """Kept by the customer alone (beneficiaries): nobody else sees it, staff included."""
    return {"anon": 401, "owner": ok, "other": 404, "agent": 404, "supervisor": 404}


def customers(ok: int) -> dict[str, int]:
    return signed_in(ok) | {"agent": 403, "supervisor": 403}


def staff(ok: int) -> dict[str, int]:
    return signed_in(ok) | {"owner": 403, "other": 403}


def supervisor(ok: int) -> dict[str, int]:
    return staff(ok) | {"agent": 403}


# --- The objects the URLs need ------------------------------------------------------------------


@dataclass
class World:
    """The cast, created per test; objects are made on first use and all belong to `owner`."""

    owner: User = field(default_factory=lambda: CustomerFactory(username="mtx_owner"))
    other: User = field(default_factory=lambda: CustomerFactory(username="mtx_other"))
    agent: User = field(default_factory=lambda: AgentFactory(username="mtx_agent"))
    supervisor: User = field(default_factory=lambda: SupervisorFactory(username="mtx_supervisor"))

    def user(self, caller: str) -> User | None:
        return None if caller == "anon" else getattr(self, caller)

    def open(self, customer: User, balance: int = 0) -> Account:
        account = AccountFactory(customer=customer, opened_by=self.agent)
        if balance:
            fund(account, balance, agent=self.agent, approver=self.supervisor)
        return account

    @cached_property
    def account(self) -> Account:
        """The owner's funded checking account."""
        return self.open(self.owner, OWNER_FUNDS)

    @cached_property
    def deposit(self) -> Transaction:
        """A posted, entry-bearing transaction of the owner's alone (the other customer is no party)."""
        return Transaction.objects.get(destination=self.account, status=TransactionStatus.POSTED)

    @cached_property
    def empty_account(self) -> Account:
        return self.open(self.owner)

    @cached_property
    def frozen_account(self) -> Account:
        account = self.open(self.owner)
        return account_freeze(actor=self.agent, account_id=account.pk, reason="Matrix setup")

    @cached_property
    def other_account(self) -> Account:
        return self.open(self.other)

    @cached_property
    def pending(self) -> Transaction:
        """The owner's transfer to the other customer, waiting for a second pair of eyes."""
        txn = transfer_create(
            initiator=self.owner, source_account_id=self.account.pk,
            destination_iban=self.other_account.iban, amount=600_00, reference="Matrix pending",
        )
        assert txn.status == TransactionStatus.PENDING
        return txn

    @cached_property
    def to_clear(self) -> Transaction:
        """The owner's posted transfer to another bank, waiting for a clearing run."""
        return transfer_create(
            initiator=self.owner, source_account_id=self.account.pk, destination_iban=EXTERNAL_IBAN,
            amount=5_00, reference="Matrix clearing",
        )

    @cached_property
    def clearing_run(self) -> ClearingRun:
        assert self.to_clear
        return clearing_run_create(initiator=self.supervisor)

    def clearing_run_call(self) -> Call:
        """POST clearing/runs/, with a transfer waiting to be sent."""
        assert self.to_clear
        return Call("clearing/runs/", {})

    @cached_property
    def suspense_item(self) -> SuspenseItem:
        """Money from another bank waiting in suspense (as a statement import leaves it)."""
        return place_in_suspense(by=self.supervisor, amount=50_00)

    @cached_property
    def beneficiary(self) -> Beneficiary:
        return beneficiary_create(customer=self.owner, name="Landlord", iban=EXTERNAL_IBAN)

    def unread_notifications(self, caller: str) -> Call:
        """Read-all, with one unread notification of the owner's and one of the caller's, if a customer."""
        assert self.notification.read_at is None
        if caller == "other":
            self.make_notification(self.other)
        return Call("notifications/read-all/", {})

    @staticmethod
    def make_notification(customer: User) -> Notification:
        """The notifier writes them from the audit stream; here, directly."""
        return Notification.objects.create(customer=customer, kind=NotificationKind.MONEY_IN, event_id=customer.pk,
                                           params={"amount_minor": 100, "currency": "EUR", "payer": "Matrix"},
                                           created_at=timezone.now())

    @cached_property
    def notification(self) -> Notification:
        """The owner's."""
        return self.make_notification(self.owner)

    @cached_property
    def inactive_agent(self) -> User:
        return AgentFactory(username="mtx_inactive_agent", is_active=False)

    @cached_property
    def agent_without_password(self) -> User:
        """An agent who has not chosen a password yet (waiting for their link)."""
        return AgentFactory(username="mtx_new_agent_waiting", password=None)

    @cached_property
    def enrolled_agent(self) -> User:
        """The agent, with a confirmed TOTP device (two-factor sign-in set up)."""
        TOTPDevice.objects.create(user=self.agent, name="Flux", confirmed=True)
        return self.agent

    @cached_property
    def locked_out_owner(self) -> User:
        """The owner after too many wrong passwords, through the real sign-in endpoint."""
        for _ in range(settings.FLUX_LOCKOUT_FAILURES):
            APIClient().post("/api/v1/auth/token/", {"username": self.owner.username, "password": "wrong"},
                             format="json")
        return self.owner

    @cached_property
    def owner_private(self) -> tuple[str, ...]:
        """Things of the owner's that the other customer has no part in, as they would appear in a
        response: an account's IBAN, a payment's reference to another bank, a beneficiary's name."""
        transfer_create(
            initiator=self.owner, source_account_id=self.account.pk, destination_iban=EXTERNAL_IBAN,
            amount=10_00, reference=PRIVATE_REFERENCE,
        )
        beneficiary_create(customer=self.owner, name=PRIVATE_BENEFICIARY, iban=EXTERNAL_IBAN)
        return (self.empty_account.iban, PRIVATE_REFERENCE, PRIVATE_BENEFICIARY)

    def listing(self, path: str, query: dict | None = None) -> Call:
        """A list: the owner's private things exist first, so that the test can check who sees them
        (the query may point the list's filters at the owner's things, as a prying caller would)."""
        assert self.owner_private
        return Call(path, query=query)

    def import_csv(self) -> bytes:
        return f"{','.join(IMPORT_HEADER)}\r\ndeposit,{self.account.iban},10.00,,Matrix import\r\n".encode()

    def import_batch(self, caller: str) -> ImportBatch:
        """A checked, unapplied CSV import; uploaded by the caller when staff (only the uploader
        applies a batch), by the agent otherwise."""
        uploader = self.user(caller) if caller in ("agent", "supervisor") else self.agent
        return import_create(uploader=uploader, file_name="matrix.csv", content=self.import_csv())

    def refresh_token(self, user: User) -> str:
        return str(RefreshToken.for_user(user))


# --- Requests -----------------------------------------------------------------------------------


@dataclass
class Call:
    path: str  # under /api/v1/
    data: dict | bytes | None = None
    query: dict | None = None
    content_type: str | None = None  # for a raw (bytes) body; a dict goes as JSON


@dataclass
class Row:
    expect: dict[str, int]
    call: Callable[[World, str], Call]
    # A list of the caller's own things: the owner's answer shows World.owner_private, the other
    # customer's shows none of it.
    lists_own: bool = False


REASON = {"reason": "Authorization matrix"}


def this_month() -> str:
    return timezone.localdate().strftime("%Y-%m")


def token_obtain(w: World, caller: str) -> Call:
    user = w.user(caller) or w.owner
    return Call("auth/token/", {"username": user.username, "password": TEST_PASSWORD})


MATRIX: dict[str, dict[str, Row]] = {
    # identity
    "auth/token/": {"POST": Row(public(200), token_obtain)},
    "auth/token/refresh/": {
        "POST": Row(public(200), lambda w, c: Call("auth/token/refresh/", {"refresh": w.refresh_token(w.owner)})),
    },
    # Everyone offers the owner's refresh token: only the owner may revoke it.
    "auth/logout/": {
        "POST": Row(
            {"anon": 401, "owner": 204, "other": 400, "agent": 400, "supervisor": 400},
            lambda w, c: Call("auth/logout/", {"refresh": w.refresh_token(w.owner)}),
        ),
    },
    "me/": {"GET": Row(signed_in(200), lambda w, c: Call("me/"))},
    "me/contact/": {
        "GET": Row(customers(200), lambda w, c: Call("me/contact/")),
        "PATCH": Row(customers(200), lambda w, c: Call("me/contact/", {"email": f"{c}-new@example.test"})),
    },
    "me/password/": {
        "POST": Row(signed_in(204), lambda w, c: Call("me/password/", {
            "old_password": TEST_PASSWORD, "new_password": "a-Fresh-matrix-passphrase-2026",
        })),
    },
    "customers/": {
        "GET": Row(staff(200), lambda w, c: Call("customers/", query={"q": w.owner.username})),
        "POST": Row(staff(201), lambda w, c: Call("customers/", {
            "username": "mtx_new", "first_name": "New", "last_name": "Customer", "email": "new@example.test",
        })),
    },
    "customers/<str:pk>/": {
        "GET": Row(staff(200), lambda w, c: Call(f"customers/{w.owner.pk}/")),
        "PATCH": Row(staff(200), lambda w, c: Call(f"customers/{w.owner.pk}/", {"email": "desk@example.test"})),
    },
    "customers/<str:pk>/events/": {
        "GET": Row(staff(200), lambda w, c: Call(f"customers/{w.owner.pk}/events/")),
    },
    # agent management and lockouts (supervisors)
    "staff/": {
        "GET": Row(supervisor(200), lambda w, c: Call("staff/")),
        "POST": Row(supervisor(201), lambda w, c: Call("staff/", {
            "username": "mtx_new_agent", "first_name": "New", "last_name": "Agent", "email": "agent@example.test",
        })),
    },
    "staff/<str:pk>/deactivate/": {
        "POST": Row(supervisor(200), lambda w, c: Call(f"staff/{w.agent.pk}/deactivate/")),
    },
    "staff/<str:pk>/reactivate/": {
        "POST": Row(supervisor(200), lambda w, c: Call(f"staff/{w.inactive_agent.pk}/reactivate/")),
    },
    "staff/<str:pk>/reset-2fa/": {
        "POST": Row(supervisor(200), lambda w, c: Call(f"staff/{w.enrolled_agent.pk}/reset-2fa/")),
    },
    "staff/<str:pk>/resend-password-link/": {
        "POST": Row(supervisor(200), lambda w, c: Call(f"staff/{w.agent_without_password.pk}/resend-password-link/")),
    },
    "users/<str:pk>/unlock/": {
        "POST": Row(supervisor(204), lambda w, c: Call(f"users/{w.locked_out_owner.pk}/unlock/")),
    },
    # banking: accounts
    "accounts/": {
        "GET": Row(signed_in(200), lambda w, c: w.listing("accounts/", {"customer": w.owner.pk}), lists_own=True),
        "POST": Row(staff(201), lambda w, c: Call("accounts/", {"customer": w.owner.pk, "kind": "savings"})),
    },
    "accounts/<str:pk>/": {"GET": Row(owner_or_staff(200), lambda w, c: Call(f"accounts/{w.account.pk}/"))},
    "accounts/<str:pk>/entries/": {
        "GET": Row(owner_or_staff(200), lambda w, c: Call(f"accounts/{w.account.pk}/entries/")),
    },
    "accounts/<str:pk>/statement/": {
        "GET": Row(owner_or_staff(200), lambda w, c: Call(
            f"accounts/{w.account.pk}/statement/", query={"month": this_month(), "format": "csv"},
        )),
    },
    "accounts/<str:pk>/freeze/": {
        "POST": Row(staff(200), lambda w, c: Call(f"accounts/{w.account.pk}/freeze/", REASON)),
    },
    "accounts/<str:pk>/unfreeze/": {
        "POST": Row(staff(200), lambda w, c: Call(f"accounts/{w.frozen_account.pk}/unfreeze/", REASON)),
    },
    "accounts/<str:pk>/close/": {
        "POST": Row(staff(200), lambda w, c: Call(f"accounts/{w.empty_account.pk}/close/", REASON)),
    },
    "accounts/<str:pk>/overdraft/": {
        "POST": Row(supervisor(200), lambda w, c: Call(
            f"accounts/{w.account.pk}/overdraft/", {"overdraft_limit": "100.00"} | REASON,
        )),
    },
    # banking: beneficiaries (not in DESIGN.md's table; the code keeps them to their customer)
    "beneficiaries/": {
        "GET": Row(signed_in(200), lambda w, c: w.listing("beneficiaries/"), lists_own=True),
        "POST": Row(customers(201), lambda w, c: Call("beneficiaries/", {"name": "Garage", "iban": EXTERNAL_IBAN})),
    },
    "beneficiaries/<str:pk>/": {
        "GET": Row(owner_only(200), lambda w, c: Call(f"beneficiaries/{w.beneficiary.pk}/")),
        "PATCH": Row(owner_only(200), lambda w, c: Call(f"beneficiaries/{w.beneficiary.pk}/", {"name": "Renamed"})),
        "DELETE": Row(owner_only(204), lambda w, c: Call(f"beneficiaries/{w.beneficiary.pk}/")),
    },
    # banking: money
    "transfers/": {
        "GET": Row(signed_in(200), lambda w, c: w.listing(
            "transfers/", {"account": w.account.pk, "q": PRIVATE_REFERENCE},
        ), lists_own=True),
        # From the owner's account: another customer is told it does not exist.
        "POST": Row(owner_or_staff(201), lambda w, c: Call("transfers/", {
            "source_account": w.account.pk, "destination_iban": w.other_account.iban, "amount": "10.00",
        })),
    },
    "transfers/batch/": {
        # All or nothing, so another customer's source (its item not_found) refuses the whole batch
        # (422 batch_refused) and shows in the status; without `atomic` it would be a 200 whose item says so.
        "POST": Row(signed_in(200) | {"other": 422}, lambda w, c: Call("transfers/batch/", {
            "atomic": True,
            "transfers": [
                {"source_account": w.account.pk, "destination_iban": w.other_account.iban, "amount": "10.00"},
            ],
        })),
    },
    "deposits/": {
        "POST": Row(staff(201), lambda w, c: Call("deposits/", {"account": w.account.pk, "amount": "10.00"})),
    },
    "withdrawals/": {
        "POST": Row(staff(201), lambda w, c: Call("withdrawals/", {"account": w.account.pk, "amount": "10.00"})),
    },
    "transactions/<str:pk>/": {
        "GET": Row(owner_or_staff(200), lambda w, c: Call(f"transactions/{w.deposit.pk}/")),
    },
    "transactions/<str:pk>/approve/": {
        "POST": Row(staff(200), lambda w, c: Call(f"transactions/{w.pending.pk}/approve/", {})),
    },
    "transactions/<str:pk>/reject/": {
        "POST": Row(staff(200), lambda w, c: Call(f"transactions/{w.pending.pk}/reject/", REASON)),
    },
    "transactions/<str:pk>/receipt/": {
        "GET": Row(owner_or_staff(200), lambda w, c: Call(f"transactions/{w.deposit.pk}/receipt/")),
    },
    # The owner's pending transfer pays the other customer: a party, who may read it but not cancel it.
    "transactions/<str:pk>/cancel/": {
        "POST": Row(signed_in(200) | {"other": 403}, lambda w, c: Call(f"transactions/{w.pending.pk}/cancel/", {})),
    },
    "payees/check/": {
        "GET": Row(signed_in(200), lambda w, c: Call("payees/check/", query={"iban": w.account.iban, "name": "Mtx"})),
    },
    "transactions/<str:pk>/reverse/": {
        "POST": Row(staff(201), lambda w, c: Call(f"transactions/{w.deposit.pk}/reverse/", REASON)),
    },
    "approvals/": {"GET": Row(staff(200), lambda w, c: Call("approvals/"))},
    # clearing runs (supervisors)
    "clearing/runs/": {
        "GET": Row(supervisor(200), lambda w, c: Call("clearing/runs/")),
        "POST": Row(supervisor(201), lambda w, c: w.clearing_run_call()),
    },
    "clearing/runs/<str:pk>/file/": {
        "GET": Row(supervisor(200), lambda w, c: Call(f"clearing/runs/{w.clearing_run.pk}/file/")),
    },
    # money with other banks: suspense and reconciliation (supervisors)
    "clearing/suspense/": {"GET": Row(supervisor(200), lambda w, c: Call("clearing/suspense/"))},
    "clearing/suspense/<str:pk>/assign/": {
        "POST": Row(supervisor(201), lambda w, c: Call(f"clearing/suspense/{w.suspense_item.pk}/assign/",
                                                        {"account": w.account.pk})),
    },
    "clearing/suspense/<str:pk>/send-back/": {
        "POST": Row(supervisor(201), lambda w, c: Call(f"clearing/suspense/{w.suspense_item.pk}/send-back/", REASON)),
    },
    "clearing/reconciliation/": {"GET": Row(supervisor(200), lambda w, c: Call("clearing/reconciliation/"))},
    # audit
    "audit/events/": {"GET": Row(supervisor(200), lambda w, c: Call("audit/events/"))},
    "audit/verify/": {"GET": Row(supervisor(200), lambda w, c: Call("audit/verify/"))},
    # portal
    "sync/": {"GET": Row(customers(200), lambda w, c: w.listing("sync/"), lists_own=True)},
    # notifications: a customer's own (staff get none: 403)
    "notifications/": {"GET": Row(customers(200), lambda w, c: Call("notifications/"))},
    "notifications/read-all/": {"POST": Row(customers(200), lambda w, c: w.unread_notifications(c))},
    "notifications/<str:pk>/read/": {
        "POST": Row(customers(200) | {"other": 404}, lambda w, c: Call(f"notifications/{w.notification.pk}/read/", {})),
    },
    # the schema and its browsable docs are public
    "schema/": {"GET": Row(public(200), lambda w, c: Call("schema/"))},
    "docs/": {"GET": Row(public(200), lambda w, c: Call("docs/"))},
    # clearing: camt.053 statements of Flux's account at its correspondent (supervisors)
    "clearing/statements/": {
        "GET": Row(supervisor(200), lambda w, c: Call("clearing/statements/")),
        "POST": Row(supervisor(201), lambda w, c: Call(
            "clearing/statements/", camt053_xml([credit("10.00", debtor_name="Matrix Payer",
                                                        creditor_iban=w.account.iban)]),
            content_type="application/xml",
        )),
    },
    # workspace: bulk CSV imports (staff)
    "imports/": {
        "GET": Row(staff(200), lambda w, c: Call("imports/")),
        "POST": Row(staff(201), lambda w, c: Call(
            "imports/", w.import_csv(), query={"file_name": "matrix.csv"}, content_type="text/csv",
        )),
    },
    "imports/<str:pk>/": {"GET": Row(staff(200), lambda w, c: Call(f"imports/{w.import_batch(c).pk}/"))},
    "imports/<str:pk>/lines/": {
        "GET": Row(staff(200), lambda w, c: Call(f"imports/{w.import_batch(c).pk}/lines/")),
    },
    "imports/<str:pk>/apply/": {
        "POST": Row(staff(200), lambda w, c: Call(f"imports/{w.import_batch(c).pk}/apply/")),
    },
    "imports/<str:pk>/report/": {
        "GET": Row(staff(200), lambda w, c: Call(f"imports/{w.import_batch(c).pk}/report/")),
    },
    # Anything else under /api/ (project/urls.py's catch-all) is a 404 in the error shape, for all.
    "^api/": {
        "GET": Row(public(404), lambda w, c: Call("no-such-endpoint/")),
        "POST": Row(public(404), lambda w, c: Call("no-such-endpoint/", {})),
    },
}
