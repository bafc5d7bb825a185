"""The ledger. Money is stored as integer minor units (cents); every posted transaction's
entries sum to zero; an account's stored balance always equals the sum of its entries."""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from core.money import format_minor


class AccountKind(models.TextChoices):
    CHECKING = "checking", _("Checking")
    SAVINGS = "savings", _("Savings")
    # The bank's own accounts, the other side of cash and of transfers to other banks.
    CASH = "cash", _("Cash vault")
    CLEARING = "clearing", _("External clearing")
    # Money from another bank that could not be placed on a customer account waits here
    # (banking/clearing/), until staff assign it to an account or send it back.
    SUSPENSE = "suspense", _("Suspense")


CUSTOMER_KINDS = (AccountKind.CHECKING, AccountKind.SAVINGS)
INTERNAL_KINDS = (AccountKind.CASH, AccountKind.CLEARING, AccountKind.SUSPENSE)


class AccountStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    FROZEN = "frozen", _("Frozen")
    CLOSED = "closed", _("Closed")


class Account(models.Model):
    iban = models.CharField(max_length=34, unique=True)
    kind = models.CharField(max_length=16, choices=AccountKind.choices)
    currency = models.CharField(max_length=3, default="EUR")
    customer = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="accounts"
    )
    balance = models.BigIntegerField(default=0)
    held = models.BigIntegerField(default=0)
    overdraft_limit = models.BigIntegerField(default=0)
    status = models.CharField(max_length=8, choices=AccountStatus.choices, default=AccountStatus.ACTIVE)
    opened_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(held__gte=0), name="account_held_non_negative"),
            models.CheckConstraint(condition=Q(overdraft_limit__gte=0), name="account_overdraft_non_negative"),
            # Customer accounts never go below minus their overdraft limit, holds included.
            models.CheckConstraint(
                condition=Q(kind__in=[k.value for k in INTERNAL_KINDS])
                | Q(balance__gte=F("held") - F("overdraft_limit")),
                name="account_within_overdraft",
            ),
            models.CheckConstraint(
                condition=~Q(status=AccountStatus.CLOSED) | (Q(balance=0) & Q(held=0)),
                name="account_closed_empty",
            ),
            models.CheckConstraint(
                condition=Q(kind__in=[k.value for k in INTERNAL_KINDS], customer__isnull=True)
                | Q(kind__in=[k.value for k in CUSTOMER_KINDS], customer__isnull=False),
                name="account_owner_matches_kind",
            ),
            # One cash vault, one clearing account and one suspense account per currency.
            models.UniqueConstraint(
                fields=["kind", "currency"],
                condition=Q(kind__in=[k.value for k in INTERNAL_KINDS]),
                name="account_one_internal_per_currency",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.iban} ({self.kind}, {format_minor(self.balance)} {self.currency})"

    @property
    def available(self) -> int:
        return self.balance - self.held + self.overdraft_limit

    @property
    def is_internal(self) -> bool:
        return self.kind in INTERNAL_KINDS


class TransactionKind(models.TextChoices):
    TRANSFER = "transfer", _("Transfer")
    EXTERNAL_TRANSFER = "external_transfer", _("Transfer to another bank")
    DEPOSIT = "deposit", _("Cash deposit")
    WITHDRAWAL = "withdrawal", _("Cash withdrawal")
    REVERSAL = "reversal", _("Reversal")
    # Money from another bank (a credit on a camt.053 statement, banking/clearing/): from the
    # clearing account to a customer account, or to the suspense account when it cannot be placed;
    # later from suspense to the account staff assign it to. `external_iban` and `payer_name` say
    # who sent it.
    INCOMING_TRANSFER = "incoming_transfer", _("Transfer from another bank")
    # One of our transfers to another bank that came back (a return on a statement): from the
    # clearing account back to the account it left; `return_of` is the transfer.
    RETURN = "return", _("Returned transfer")


class TransactionStatus(models.TextChoices):
    PENDING = "pending", _("Pending approval")
    POSTED = "posted", _("Posted")
    REJECTED = "rejected", _("Rejected")
    # Not decided within FLUX_PENDING_TTL_DAYS: voided by the scheduler, its hold released (its
    # audit action says what happened: transaction.expired).
    VOIDED = "voided", _("Voided")
    CANCELLED = "cancelled", _("Cancelled")
    # A posted transfer to another bank once it is in a pain.001 clearing file (`clearing_run`,
    # `sent_at`), and one that the other bank sent back (a RETURN transaction credited it back).
    SENT = "sent", _("Sent to the other bank")
    RETURNED = "returned", _("Returned by the other bank")


class PayeeCheck(models.TextChoices):
    """What the verification of payee (banking.payees) told the payer before the transfer."""

    MATCH = "match", _("Name matches")
    CLOSE_MATCH = "close_match", _("Name close to the account holder's")
    NO_MATCH = "no_match", _("Name does not match")
    UNAVAILABLE = "unavailable", _("Name check unavailable")


# The statuses of a transaction whose entries exist: posted, and a transfer to another bank that
# has left (sent) or come back (returned: a RETURN credited it back; its own entries stand).
BOOKED_STATUSES = (TransactionStatus.POSTED, TransactionStatus.SENT, TransactionStatus.RETURNED)

# A reversal in these states stands: it is posted, or waits for a second member of staff. A rejected
# or voided one moved nothing, so the original may be reversed again.
LIVE_REVERSAL_STATUSES = (TransactionStatus.PENDING, TransactionStatus.POSTED)


class Transaction(models.Model):
    """One money movement. Posted: its entries exist and sum to zero. Pending: no entries yet,
    its amount is held on the source account until a second staff member decides."""

    kind = models.CharField(max_length=20, choices=TransactionKind.choices)
    status = models.CharField(max_length=10, choices=TransactionStatus.choices)
    amount = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    source = models.ForeignKey(
        Account, null=True, blank=True, on_delete=models.PROTECT, related_name="outgoing_transactions"
    )
    destination = models.ForeignKey(
        Account, null=True, blank=True, on_delete=models.PROTECT, related_name="incoming_transactions"
    )
    # For transfers to other banks: where the clearing account sends the money.
    external_iban = models.CharField(max_length=34, blank=True)
    reference = models.CharField(max_length=140, blank=True)
    # The payee's name as the payer gave it (kept for transfers to other banks, where Flux knows no
    # holder), and what the verification of payee said when the payer confirmed (blank: not run).
    beneficiary_name = models.CharField(max_length=70, blank=True)
    payee_check = models.CharField(max_length=12, choices=PayeeCheck.choices, blank=True)
    initiated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="initiated_transactions"
    )
    created_at = models.DateTimeField()
    posted_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_reason = models.CharField(max_length=500, blank=True)
    # A reversal points at what it reverses. Every reversal waits for a second member of staff, and
    # one that is rejected or expires must not block a new one: "at most once" is the partial unique
    # constraint below (one pending or posted reversal per original), not a one-to-one field.
    reverses = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="reversals"
    )
    # The amount held on `source` while pending (0 when nothing is held, e.g. a cash deposit).
    hold_amount = models.BigIntegerField(default=0)
    # Money with other banks (banking/clearing/). A transfer to another bank: the pain.001 file it
    # left in and when (status `sent`). Money from another bank: the payer as their bank named them.
    # A RETURN: the transfer it credits back (at most once).
    clearing_run = models.ForeignKey(
        "banking.ClearingRun", null=True, blank=True, on_delete=models.PROTECT, related_name="transactions"
    )
    sent_at = models.DateTimeField(null=True, blank=True)
    payer_name = models.CharField(max_length=140, blank=True)
    return_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="returns"
    )

    class Meta:
        indexes = [
            models.Index(fields=["status", "id"], name="transaction_status_idx"),
            models.Index(fields=["status", "expires_at"], name="transaction_expiry_idx"),
            # What the next clearing run sends: posted transfers to another bank not yet in a file.
            models.Index(
                fields=["id"],
                condition=Q(kind="external_transfer", status="posted", clearing_run__isnull=True),
                name="transaction_to_clear_idx",
            ),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="transaction_amount_positive"),
            models.CheckConstraint(condition=Q(hold_amount__gte=0), name="transaction_hold_non_negative"),
            models.UniqueConstraint(
                fields=["reverses"],
                condition=Q(status__in=[s.value for s in LIVE_REVERSAL_STATUSES]),
                name="transaction_reversed_at_most_once",
            ),
            models.UniqueConstraint(fields=["return_of"], name="transaction_returned_at_most_once"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.kind} {format_minor(self.amount)} {self.currency} {self.status}"


class Entry(models.Model):
    """One leg of a posted transaction on one account. Immutable: on PostgreSQL a trigger refuses
    UPDATE and DELETE; a mistake is corrected by a reversal."""

    transaction = models.ForeignKey(Transaction, on_delete=models.PROTECT, related_name="entries")
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="entries")
    amount = models.BigIntegerField()
    balance_after = models.BigIntegerField()
    # The other side as the account holder sees it (an IBAN or "Cash"), fixed at posting time.
    counterparty = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        verbose_name_plural = "entries"
        indexes = [models.Index(fields=["account", "-id"], name="entry_account_id_idx")]
        constraints = [models.CheckConstraint(condition=~Q(amount=0), name="entry_amount_non_zero")]

    def __str__(self) -> str:
        return f"{self.account.iban} {format_minor(self.amount)}"


class Beneficiary(models.Model):
    """Someone a customer pays often: a name of their choosing and an IBAN (a Flux account or
    another bank's), stored normalised (no spaces, upper case) so one IBAN is saved once."""

    customer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="beneficiaries"
    )
    name = models.CharField(max_length=70)
    iban = models.CharField(max_length=34)
    created_at = models.DateTimeField()

    class Meta:
        verbose_name_plural = "beneficiaries"
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["customer", "iban"], name="beneficiary_iban_per_customer"),
            models.CheckConstraint(condition=~Q(name=""), name="beneficiary_name_not_empty"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.iban})"


# Money with other banks: clearing runs (pain.001 out), statements (camt.053 in), suspense.
from banking.clearing.models import (  # noqa: E402,F401  (models of the banking app)
    ClearingRun,
    Statement,
    StatementEntry,
    StatementEntryOutcome,
    SuspenseItem,
    SuspenseReason,
)
