"""Reversals: the only way to correct a posted transaction (entries are immutable). Four eyes: one
member of staff requests a reversal, which waits `pending` until another approves it (posted by
banking/services/approvals.py) or rejects it, or it expires like any pending transaction."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from audit import actions
from audit.services import audit_record
from banking.ledger import Leg, ensure_available, ensure_open, transaction_audit_data
from banking.locks import lock_accounts, lock_transaction
from banking.models import Account, Entry, Transaction, TransactionKind, TransactionStatus
from banking.policies import reversal_refusal
from banking.selectors import standing_reversal_of
from banking.services.common import require_reason
from core.errors import ApplicationError, NotFound
from core.metrics import count_transactions
from identity.models import User
from identity.permissions import require_staff


def reversal_legs(original_entries: list[Entry], accounts: dict[int, Account]) -> list[Leg]:
    """The entries a reversal posts: every entry of the original negated, on the same (locked)
    accounts, with the same counterparties."""
    return [Leg(accounts[entry.account_id], -entry.amount, entry.counterparty) for entry in original_entries]


def transaction_reverse(*, actor: User, transaction_id: int, reason: str) -> Transaction:
    """Request the reversal of a posted transaction: a compensating transaction linked to the
    original, created `pending` whatever its amount. A member of staff other than `actor` approves
    it (then every entry of the original is negated) or rejects it; it expires after
    FLUX_PENDING_TTL_DAYS like any pending transaction.

    What is held: a reversal debits the side the original credited, its `source`. When that is a
    customer account (the reversal of a cash deposit or of a transfer between customers) the amount
    is held there, as for any pending debit: the available balance drops, the balance does not, so
    the money cannot leave while the reversal waits, and a deposit already spent cannot be reversed
    (insufficient_funds). When it is one of the bank's own accounts (the cash vault for a
    withdrawal, clearing for a transfer to another bank), nothing is held: in particular the
    customer a reversed withdrawal credits gets nothing before the approval.

    At most once: a pending or posted reversal blocks another request (already_reversed, backed by
    the partial unique constraint `transaction_reversed_at_most_once`); a rejected or voided one
    does not. The accounts must be open. Audited as `transaction.pending` on the reversal, with the
    original (`reverses`) and the reason.

    Errors: permission_denied (not staff), validation_error (no reason), not_found, not_posted,
    not_reversible (a reversal), already_reversed, account_frozen, account_closed,
    insufficient_funds.
    """
    require_staff(actor)
    reason = require_reason(reason)
    now = timezone.now()
    with transaction.atomic():
        original = lock_transaction(transaction_id)
        if original is None:
            raise NotFound("Transaction not found.")
        refusal = reversal_refusal(original, standing_reversal=standing_reversal_of(original))
        if refusal is not None:
            raise refusal
        entries = list(original.entries.order_by("pk"))
        accounts = lock_accounts(entry.account_id for entry in entries)
        for account in accounts.values():
            ensure_open(account)
        debited = accounts[original.destination_id]
        hold = 0 if debited.is_internal else original.amount
        if hold:
            ensure_available(debited, hold)
            debited.held += hold
            debited.save(update_fields=["held"])
        try:
            with transaction.atomic():  # a savepoint: the constraint's refusal becomes a clear error
                reversal = Transaction.objects.create(
                    kind=TransactionKind.REVERSAL,
                    status=TransactionStatus.PENDING,
                    amount=original.amount,
                    currency=original.currency,
                    source=debited,
                    destination_id=original.source_id,
                    external_iban=original.external_iban,
                    beneficiary_name=original.beneficiary_name,
                    reference=f"Reversal of #{original.pk}: {reason}"[:140],
                    initiated_by=actor,
                    created_at=now,
                    expires_at=now + timedelta(days=settings.FLUX_PENDING_TTL_DAYS),
                    reverses=original,
                    hold_amount=hold,
                )
        except IntegrityError:  # only if a row escaped the lock above: the constraint still holds
            raise ApplicationError("already_reversed", "This transaction has already been reversed.") from None
        count_transactions([(reversal.kind, reversal.status)])
        audit_record(
            actor=actor,
            action=actions.TRANSACTION_PENDING,
            target_type="transaction",
            target_id=reversal.pk,
            data=transaction_audit_data(reversal) | {"reverses": original.pk, "reason": reason},
        )
        return reversal
