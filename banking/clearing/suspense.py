"""Suspense: money from another bank that could not be placed (a statement credit to an unknown,
closed or frozen account, or in another currency) waits on the suspense account, one SuspenseItem
per statement entry, until a supervisor resolves it:

- assigned to a customer account (`suspense_assign`): an INCOMING_TRANSFER suspense -> account,
  named after the payer as the placement was (payer_name, external_iban, reference);
- sent back to the payer (`suspense_send_back`): an EXTERNAL_TRANSFER suspense -> clearing to the
  payer's IBAN, which the next clearing run puts in its pain.001 file like any posted transfer to
  another bank.

Either is posted at once, or, at or above FLUX_APPROVAL_THRESHOLD, created pending: another member
of staff approves or rejects it in the approval queue (banking.services.approvals; never the
initiator). Nothing is held on the suspense account: it is the bank's own, and the item's lock
already keeps its money from being resolved twice.

An item's status is derived from its resolution, never stored:
- open: no resolution, or one that moved nothing or whose money came back to suspense (rejected,
  expired, cancelled, or a send-back the other bank returned): it may be resolved again;
- pending: its resolution waits for a second member of staff;
- resolved: its resolution is posted (an assignment) or posted or sent (a send-back).
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import Case, CharField, Q, QuerySet, Value, When

from audit import actions
from audit.services import audit_record
from banking.iban import is_flux_iban, parse_iban
from banking.ledger import Postings, internal_account
from banking.locks import lock_accounts, lock_suspense_item
from banking.models import (
    Account,
    AccountKind,
    SuspenseItem,
    Transaction,
    TransactionKind,
    TransactionStatus,
)
from banking.policies import transfer_needs_approval
from banking.services.movements import Movement, _apply
from core.errors import ApplicationError, NotFound, ValidationFailed
from core.ids import parse_id
from core.money import format_minor
from identity.models import User
from identity.permissions import require_supervisor

# A resolution in one of these states leaves its item open: it moved nothing (rejected, expired,
# cancelled), or the other bank sent a send-back back (returned: a RETURN credited suspense again).
REOPENING_STATUSES = (
    TransactionStatus.REJECTED,
    TransactionStatus.VOIDED,
    TransactionStatus.CANCELLED,
    TransactionStatus.RETURNED,
)

OPEN, PENDING, RESOLVED = "open", "pending", "resolved"
STATUSES = (OPEN, PENDING, RESOLVED)

SEND_BACK_PREFIX = "Returned to sender"
REFERENCE_LENGTH = 140  # Transaction.reference, the SEPA remittance
NAME_LENGTH = 70  # Transaction.beneficiary_name, the SEPA creditor name


def _open_q(prefix: str = "") -> Q:
    return Q(**{f"{prefix}resolution__isnull": True}) | Q(**{f"{prefix}resolution__status__in": REOPENING_STATUSES})


def status_of(item: SuspenseItem) -> str:
    """open, pending or resolved, from the item's resolution (read with it)."""
    resolution = item.resolution
    if resolution is None or resolution.status in REOPENING_STATUSES:
        return OPEN
    if resolution.status == TransactionStatus.PENDING:
        return PENDING
    return RESOLVED


# --- Selectors ----------------------------------------------------------------------------------


def suspense_items(*, status: str = OPEN) -> QuerySet[SuspenseItem]:
    """The suspense items in `status` (open, pending, resolved or all), oldest first, each with its
    statement entry and resolution read in the same query and `status` annotated."""
    items = SuspenseItem.objects.select_related("entry", "resolution", "placement").annotate(
        status=Case(
            When(_open_q(), then=Value(OPEN)),
            When(resolution__status=TransactionStatus.PENDING, then=Value(PENDING)),
            default=Value(RESOLVED),
            output_field=CharField(),
        )
    )
    if status != "all":
        if status not in STATUSES:
            raise ValidationFailed({"status": ["Choose open, pending, resolved or all."]})
        items = items.filter(status=status)
    return items.order_by("created_at", "id")


def suspense_item(item_id: object) -> SuspenseItem:
    """One suspense item (not_found otherwise), as suspense_items reads it."""
    try:
        return suspense_items(status="all").get(pk=parse_id(item_id))
    except SuspenseItem.DoesNotExist:
        raise NotFound("Suspense item not found.") from None


def customer_account_by_iban(iban: str) -> Account:
    """The customer account with this Flux IBAN, as a supervisor types it when assigning an item.
    Errors: invalid_iban, unknown_account (no such account, or the bank's own)."""
    parsed = parse_iban(iban)
    account = Account.objects.filter(iban=str(parsed)).select_related("customer").first()
    if account is None or account.is_internal:
        raise ApplicationError("unknown_account", f"No Flux customer account has the IBAN {parsed}.")
    return account


def send_back_reference(remittance: str) -> str:
    """The remittance of a send-back: says it is a return, then the payer's own text (≤ 140)."""
    remittance = " ".join((remittance or "").split())
    reference = f"{SEND_BACK_PREFIX}: {remittance}" if remittance else SEND_BACK_PREFIX
    return reference[:REFERENCE_LENGTH]


def payer_iban_for_send_back(item: SuspenseItem) -> str:
    """The IBAN a send-back goes to: the payer's, from the statement entry. Errors: invalid_iban
    (unknown, malformed, or a Flux IBAN: money between Flux accounts never goes through clearing)."""
    if not item.entry.debtor_iban.strip():
        raise ApplicationError("invalid_iban", "The statement does not give the payer's IBAN: assign it instead.")
    iban = parse_iban(item.entry.debtor_iban)
    if is_flux_iban(iban):
        raise ApplicationError("invalid_iban", f"The payer's IBAN {iban} is a Flux IBAN: assign the money instead.")
    return str(iban)


# --- Services -----------------------------------------------------------------------------------


def _lock_open(item_id: object) -> SuspenseItem:
    """The item, locked, and open (its resolution read after the lock, so a resolution decided or
    made meanwhile is seen). Errors: not_found, not_open."""
    item = lock_suspense_item(parse_id(item_id))
    if item is None:
        raise NotFound("Suspense item not found.")
    resolution = Transaction.objects.filter(pk=item.resolution_id).first() if item.resolution_id else None
    item.resolution = resolution
    if status_of(item) != OPEN:
        raise ApplicationError(
            "not_open",
            f"Suspense item #{item.pk} is no longer open: transaction #{resolution.pk} ({resolution.status}) "
            "resolves it.",
        )
    return item


def _resolve(item: SuspenseItem, movement: Movement, *, initiator: User, accounts: dict[int, Account],
             action: str, data: dict) -> Transaction:
    """Post or create pending the item's resolution (its own audit event), link it, audit `action`."""
    postings = Postings()
    txn = _apply(movement, initiator=initiator, accounts=accounts, at=None, postings=postings)
    postings.flush()
    item.resolution = txn
    item.save(update_fields=["resolution"])
    audit_record(
        actor=initiator,
        action=action,
        target_type="suspense_item",
        target_id=item.pk,
        data={
            "transaction": txn.pk,
            "status": txn.status,
            "amount": format_minor(item.amount),
            "currency": item.currency,
            "entry": item.entry_id,
        } | data,
    )
    return txn


def suspense_assign(*, initiator: User, item_id: object, account_id: object) -> Transaction:
    """Place an open suspense item on a customer account: an INCOMING_TRANSFER from the suspense
    account, named after the payer as its placement was (payer_name, external_iban, reference).
    Posted, or pending at or above FLUX_APPROVAL_THRESHOLD (another member of staff decides; a
    rejection, expiry or cancellation leaves the item open again). Supervisors only. Audited
    `suspense.assigned` (and the transaction's own `transaction.posted` or `.pending`).

    Errors: permission_denied, not_found (the item, or no such customer account), not_open (already
    resolved or waiting for approval: of two assignments at once, one wins), currency_mismatch,
    account_frozen, account_closed.
    """
    require_supervisor(initiator)
    with transaction.atomic():
        item = _lock_open(item_id)
        account = Account.objects.filter(pk=parse_id(account_id)).first()
        if account is None or account.is_internal:
            raise NotFound("Account not found.")
        if account.currency != item.currency:
            raise ApplicationError(
                "currency_mismatch",
                f"The money is in {item.currency}, the account {account.iban} in {account.currency}.",
            )
        placement = item.placement
        accounts = lock_accounts([placement.destination_id, account.pk])
        movement = Movement(
            kind=TransactionKind.INCOMING_TRANSFER,
            source_id=placement.destination_id,  # the suspense account the placement credited
            destination_id=account.pk,
            amount=item.amount,
            currency=item.currency,
            reference=placement.reference,
            needs_approval=transfer_needs_approval(item.amount),
            hold=False,
            external_iban=placement.external_iban,
            payer_name=placement.payer_name,
        )
        # account_frozen / account_closed, said in full to staff (ensure_open_for).
        return _resolve(item, movement, initiator=initiator, accounts=accounts, action=actions.SUSPENSE_ASSIGNED,
                        data={"account": accounts[account.pk].iban})


def suspense_send_back(*, initiator: User, item_id: object, reason: str = "") -> Transaction:
    """Send an open suspense item back to the payer: an EXTERNAL_TRANSFER from the suspense account
    to the clearing account, to the payer's IBAN (the statement entry's debtor), named after them,
    its reference saying it is returned (then the payer's remittance, ≤ 140). Posted, so the next
    clearing run sends it; or pending at or above FLUX_APPROVAL_THRESHOLD. Supervisors only.
    Audited `suspense.sent_back` with `reason` (optional, ≤ 500).

    Errors: permission_denied, not_found, not_open, invalid_iban (the payer's IBAN is missing,
    malformed or a Flux IBAN), validation_error (reason).
    """
    require_supervisor(initiator)
    reason = (reason or "").strip()
    if len(reason) > 500:
        raise ValidationFailed({"reason": ["Keep the reason under 500 characters."]})
    with transaction.atomic():
        item = _lock_open(item_id)
        iban = payer_iban_for_send_back(item)
        placement = item.placement
        clearing = internal_account(AccountKind.CLEARING, item.currency)
        accounts = lock_accounts([placement.destination_id, clearing.pk])
        name = " ".join((item.entry.debtor_name or placement.payer_name).split())[:NAME_LENGTH]
        movement = Movement(
            kind=TransactionKind.EXTERNAL_TRANSFER,
            source_id=placement.destination_id,
            destination_id=clearing.pk,
            amount=item.amount,
            currency=item.currency,
            reference=send_back_reference(item.entry.remittance),
            needs_approval=transfer_needs_approval(item.amount),
            hold=False,
            external_iban=iban,
            beneficiary_name=name,
        )
        return _resolve(item, movement, initiator=initiator, accounts=accounts, action=actions.SUSPENSE_SENT_BACK,
                        data={"iban": iban, "reason": reason})
