"""Money with other banks: what went out (clearing runs, each a pain.001 file), what came in (camt.053
statements of Flux's account at its correspondent, entry by entry) and what waits in suspense.

The clearing account (AccountKind.CLEARING, one per currency) stands for money between Flux and
the other banks: a customer's transfer to another bank credits it (banking.services.movements);
the transfer then leaves in a clearing run; a credit on a statement debits it (money in, a return,
or a placement in suspense). Imported in banking/models.py, so these are the banking app's models.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class ClearingRun(models.Model):
    """One pain.001 SEPA credit transfer file: every posted transfer to another bank not yet sent,
    gathered at once (banking.clearing.runs). Its transfers point at it (Transaction.clearing_run)
    and became `sent`; the file is kept as it was made, to download again."""

    created_at = models.DateTimeField()
    # Who ran it: a supervisor, or None for the scheduler's cut-off run.
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # The file's GrpHdr/MsgId (unique: a bank refuses a message id it has seen).
    message_id = models.CharField(max_length=35, unique=True)
    schema = models.CharField(max_length=20)  # e.g. "pain.001.001.09"
    currency = models.CharField(max_length=3)
    count = models.PositiveIntegerField()  # NbOfTxs
    total = models.BigIntegerField()  # CtrlSum, in minor units
    file = models.BinaryField()  # the XML, as sent

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"clearing run #{self.pk} ({self.count} transfers)"

    @property
    def file_name(self) -> str:
        return f"flux-pain001-{self.pk}.xml"


class Statement(models.Model):
    """One uploaded camt.053 statement (banking.clearing.statements): its header, its balances and
    what became of its entries. The same file uploaded twice is two Statement rows; the second's
    entries are all duplicates."""

    uploaded_at = models.DateTimeField()
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    version = models.CharField(max_length=20)  # "camt.053.001.02" or "camt.053.001.08"
    message_id = models.CharField(max_length=35)  # GrpHdr/MsgId
    statement_id = models.CharField(max_length=35)  # Stmt/Id
    account_iban = models.CharField(max_length=34)  # Stmt/Acct/Id/IBAN: Flux's account at the correspondent
    currency = models.CharField(max_length=3)
    # Booked balances (OPBD/PRCD and CLBD), signed minor units, and the closing balance's date.
    opening_balance = models.BigIntegerField(null=True, blank=True)
    closing_balance = models.BigIntegerField(null=True, blank=True)
    closing_date = models.DateField(null=True, blank=True)
    # What became of its entries (counts, as the API answers them).
    entries = models.PositiveIntegerField(default=0)
    credited = models.PositiveIntegerField(default=0)
    returned = models.PositiveIntegerField(default=0)
    suspense = models.PositiveIntegerField(default=0)
    duplicates = models.PositiveIntegerField(default=0)
    booked = models.PositiveIntegerField(default=0)  # debits matched to our sent transfers
    unmatched = models.PositiveIntegerField(default=0)  # debits Flux cannot match (fees, unknown)
    file = models.BinaryField()

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"statement #{self.pk} {self.statement_id}"


class StatementEntryOutcome(models.TextChoices):
    CREDITED = "credited", _("Credited to a customer")
    RETURNED = "returned", _("Return of one of our transfers")
    SUSPENSE = "suspense", _("Placed in suspense")
    BOOKED = "booked", _("Our transfer, booked by the correspondent")
    UNMATCHED = "unmatched", _("Not matched")
    DUPLICATE = "duplicate", _("Already applied")


# Entries that applied something (every outcome but DUPLICATE): each key at most once, ever.
APPLIED_OUTCOMES = [o.value for o in StatementEntryOutcome if o != StatementEntryOutcome.DUPLICATE]


class StatementEntry(models.Model):
    """One booked entry (Ntry, one transaction detail) of a statement and what Flux did with it.

    `key` identifies it across uploads: "acct:" + its AcctSvcrRef, else "e2e:" + its EndToEndId.
    An entry whose key was applied before is a DUPLICATE and changes nothing (the partial unique
    constraint makes "applied once" hold in the database too). `transaction` is the transaction it
    posted (CREDITED: clearing to the customer; RETURNED: the RETURN; SUSPENSE: clearing to
    suspense) or, for BOOKED, our transfer that it books."""

    statement = models.ForeignKey(Statement, on_delete=models.PROTECT, related_name="statement_entries")
    position = models.PositiveIntegerField()  # its order in the file, from 1
    key = models.CharField(max_length=80)
    amount = models.BigIntegerField()  # signed minor units: credits positive, debits negative
    currency = models.CharField(max_length=3)
    booking_date = models.DateField()
    value_date = models.DateField(null=True, blank=True)
    acct_svcr_ref = models.CharField(max_length=35, blank=True)
    end_to_end_id = models.CharField(max_length=35, blank=True)
    debtor_name = models.CharField(max_length=140, blank=True)
    debtor_iban = models.CharField(max_length=34, blank=True)
    creditor_name = models.CharField(max_length=140, blank=True)
    creditor_iban = models.CharField(max_length=34, blank=True)
    remittance = models.CharField(max_length=140, blank=True)
    return_reason = models.CharField(max_length=4, blank=True)  # ISO code, e.g. AC04
    outcome = models.CharField(max_length=10, choices=StatementEntryOutcome.choices)
    # Why it went to suspense or stayed unmatched, in words for staff.
    note = models.CharField(max_length=200, blank=True)
    transaction = models.ForeignKey(
        "banking.Transaction", null=True, blank=True, on_delete=models.PROTECT, related_name="statement_entries"
    )

    class Meta:
        verbose_name_plural = "statement entries"
        constraints = [
            models.UniqueConstraint(
                fields=["key"], condition=Q(outcome__in=APPLIED_OUTCOMES), name="statement_entry_applied_once"
            ),
        ]
        indexes = [models.Index(fields=["booking_date"], name="statement_entry_booking_idx")]

    def __str__(self) -> str:
        return f"{self.key} {self.amount} {self.outcome}"


class SuspenseReason(models.TextChoices):
    UNKNOWN_ACCOUNT = "unknown_account", _("No Flux account has this IBAN")
    ACCOUNT_CLOSED = "account_closed", _("The account is closed")
    ACCOUNT_FROZEN = "account_frozen", _("The account is frozen")
    CURRENCY_MISMATCH = "currency_mismatch", _("The account is in another currency")
    UNKNOWN_RETURN = "unknown_return", _("A return of no transfer Flux sent")


class SuspenseItem(models.Model):
    """Money from another bank that could not be placed: it sits on the suspense account
    (`placement`: clearing to suspense) until staff resolve it, by assigning it to an account
    (`resolution`: an INCOMING_TRANSFER from suspense, pending above the approval threshold) or by
    sending it back (`resolution`: an EXTERNAL_TRANSFER from suspense to the payer's IBAN, which
    leaves in the next clearing run). It is open while it has no resolution, or its resolution was
    rejected, voided or cancelled (banking.clearing.suspense)."""

    entry = models.OneToOneField(StatementEntry, on_delete=models.PROTECT, related_name="suspense_item")
    amount = models.BigIntegerField()  # positive minor units
    currency = models.CharField(max_length=3)
    reason = models.CharField(max_length=20, choices=SuspenseReason.choices)
    placement = models.OneToOneField(
        "banking.Transaction", on_delete=models.PROTECT, related_name="suspense_placement"
    )
    resolution = models.ForeignKey(
        "banking.Transaction", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"suspense #{self.pk} {self.amount} {self.currency} ({self.reason})"
