"""Rules that a page shows before acting and a service enforces when it acts: one function each,
so the desk never offers what the service would refuse, and the service never forgets a rule."""

from __future__ import annotations

from banking.models import Transaction, TransactionKind, TransactionStatus
from core.errors import ApplicationError


def reversal_refusal(original: Transaction, *, standing_reversal: Transaction | None) -> ApplicationError | None:
    """Why `original` cannot be reversed now, or None when it can.

    `standing_reversal` is its pending or posted reversal, if any (selectors.standing_reversal_of):
    a pending one blocks a second request as a posted one does, so a transaction is reversed at
    most once; a rejected or expired one moved nothing and blocks nothing."""
    if original.kind == TransactionKind.REVERSAL:
        return ApplicationError("not_reversible", "A reversal cannot itself be reversed.")
    if original.status != TransactionStatus.POSTED:
        return ApplicationError(
            "not_posted",
            f"Only a posted transaction can be reversed; this one is {original.status}.",
        )
    if standing_reversal is not None:
        if standing_reversal.status == TransactionStatus.PENDING:
            message = f"Reversal #{standing_reversal.pk} of this transaction is waiting for a decision."
        else:
            message = f"This transaction has already been reversed by #{standing_reversal.pk}."
        return ApplicationError("already_reversed", message)
    return None
