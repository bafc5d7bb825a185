"""Reversals: the only way to correct a posted transaction (entries are immutable)."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from audit import actions
from audit.services import audit_record
from banking.ledger import Leg, ensure_open, post
from banking.locks import lock_accounts, lock_transaction
from banking.models import Transaction, TransactionKind, TransactionStatus
from banking.services.common import require_reason, require_staff
from banking.services.movements import transaction_audit_data
from core.errors import ApplicationError, NotFound
from identity.models import User


def transaction_reverse(*, actor: User, transaction_id: int, reason: str) -> Transaction:
    """Post a compensating transaction that negates every entry of a posted one, at most once.

    The accounts must be open, and a debited customer account must stay within its overdraft
    limit (a deposit already spent cannot be reversed).
    Errors: permission_denied, not_found, not_posted, not_reversible (a reversal),
    already_reversed, account_frozen, account_closed, insufficient_funds, validation_error.
    """
    require_staff(actor)
    reason = require_reason(reason)
    now = timezone.now()
    with transaction.atomic():
        original = lock_transaction(transaction_id)
        if original is None:
            raise NotFound("Transaction not found.")
        if original.kind == TransactionKind.REVERSAL:
            raise ApplicationError("not_reversible", "A reversal cannot itself be reversed.")
        if original.status != TransactionStatus.POSTED:
            raise ApplicationError(
                "not_posted", f"Only a posted transaction can be reversed; this one is {original.status}."
            )
        if Transaction.objects.filter(reverses=original).exists():
            raise ApplicationError("already_reversed", "This transaction has already been reversed.")
        entries = list(original.entries.order_by("pk"))
        accounts = lock_accounts(entry.account_id for entry in entries)
        for account in accounts.values():
            ensure_open(account)
        reversal = Transaction.objects.create(
            kind=TransactionKind.REVERSAL,
            status=TransactionStatus.POSTED,
            amount=original.amount,
            currency=original.currency,
            source=original.destination,
            destination=original.source,
            external_iban=original.external_iban,
            reference=f"Reversal of #{original.pk}: {reason}"[:140],
            initiated_by=actor,
            created_at=now,
            posted_at=now,
            decision_reason=reason,
            reverses=original,
        )
        post(
            reversal,
            [Leg(accounts[entry.account_id], -entry.amount, entry.counterparty) for entry in entries],
            at=now,
        )
        audit_record(
            actor=actor,
            action=actions.TRANSACTION_REVERSED,
            target_type="transaction",
            target_id=original.pk,
            data=transaction_audit_data(original) | {"reversal": reversal.pk, "reason": reason},
        )
        return reversal
