"""Four eyes: a pending transaction (a large transfer or cash operation, or any reversal) is
approved (posted) or rejected (hold released) by a staff member other than its initiator, or
voided when it expires."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from audit import actions
from audit.services import audit_record
from banking.access import transaction_for_user
from banking.ledger import ensure_open, post, transaction_audit_data
from banking.locks import lock_accounts, lock_transaction
from banking.models import LIVE_REVERSAL_STATUSES, Account, Entry, Transaction, TransactionKind, TransactionStatus
from banking.policies import approval_limit_refusal, reversal_refusal
from banking.services.common import require_reason
from banking.services.movements import legs_for
from banking.services.reversals import reversal_legs
from core.errors import ApplicationError, NotFound
from core.metrics import count_transactions
from identity.models import User
from identity.permissions import require_staff


def _lock_pending(*, decider: User, transaction_id: int, now: datetime) -> Transaction:
    txn = lock_transaction(transaction_id)
    if txn is None:
        raise NotFound("Transaction not found.")
    if txn.status != TransactionStatus.PENDING:
        raise ApplicationError("not_pending", f"This transaction is {txn.status}, not pending.")
    if txn.expires_at and txn.expires_at <= now:
        raise ApplicationError("not_pending", "This transaction has expired.")
    if txn.initiated_by_id == decider.pk:
        raise ApplicationError("permission_denied", "A transaction is decided by someone other than its initiator.")
    return txn


def _ensure_within_approval_limit(*, approver: User, txn: Transaction) -> None:
    """Agents approve up to FLUX_AGENT_APPROVAL_LIMIT; above it, only a supervisor may."""
    refusal = approval_limit_refusal(approver, txn)
    if refusal is not None:
        raise refusal


def _end_unposted(txn: Transaction, status: str, *, actor: User | None, action: str, at: datetime,
                  reason: str = "", data: dict | None = None) -> None:
    """End a locked pending transaction without posting it (rejected, voided or cancelled): its
    hold released on the source (locked here), the decision saved, counted and audited (the event
    describes the transaction, plus `data`). In the caller's atomic block."""
    accounts = lock_accounts([txn.source_id])
    _release_hold(txn, accounts[txn.source_id])
    txn.status, txn.decided_by, txn.decided_at, txn.decision_reason = status, actor, at, reason
    txn.save(update_fields=["status", "decided_by", "decided_at", "decision_reason"])
    count_transactions([(txn.kind, txn.status)])
    audit_record(actor=actor, action=action, target_type="transaction", target_id=txn.pk,
                 data=transaction_audit_data(txn) | (data or {}))


def _release_hold(txn: Transaction, source: Account) -> None:
    if txn.hold_amount:
        source.held -= txn.hold_amount
        source.save(update_fields=["held"])


def _still_reversible(reversal: Transaction) -> tuple[Transaction, list[Entry]]:
    """The original of a pending reversal and the entries it will negate, once the original is
    checked to be still reversible: posted, and reversed by no other reversal (the partial unique
    constraint already makes a second standing reversal impossible; this makes it a clear error).

    The original is locked (after the reversal: every path locks a reversal before its original),
    so that a clearing run cannot send it meanwhile (banking.locks.lock_transfers_to_clear skips a
    locked transfer); one already sent is no longer posted (not_posted)."""
    lock_transaction(reversal.reverses_id)
    original = Transaction.objects.select_related("source", "destination").get(pk=reversal.reverses_id)
    other = original.reversals.filter(status__in=LIVE_REVERSAL_STATUSES).exclude(pk=reversal.pk).first()
    refusal = reversal_refusal(original, standing_reversal=other)
    if refusal is not None:
        raise refusal
    return original, list(original.entries.order_by("pk"))


def transaction_approve(*, approver: User, transaction_id: int) -> Transaction:
    """Post a pending transaction: the hold is released and the entries written at once.

    An agent approves amounts up to FLUX_AGENT_APPROVAL_LIMIT; a supervisor any amount. The rules
    of the ledger are checked again now, on the locked accounts: they must be open, and a debited
    customer account must stay within its overdraft limit once the hold is released (so money that
    left a customer account meanwhile, e.g. a lowered overdraft limit, refuses the approval with
    insufficient_funds and leaves the transaction pending). A reversal posts every entry of its
    original negated, and its original must still be reversible; its approval is also audited as
    `transaction.reversed` on the original.

    Errors: permission_denied (not staff, or the initiator), approval_limit_exceeded (an agent,
    above the limit), not_found, not_pending, account_frozen, account_closed, insufficient_funds,
    not_posted / already_reversed (a reversal whose original is no longer reversible).
    """
    require_staff(approver)
    now = timezone.now()
    with transaction.atomic():
        txn = _lock_pending(decider=approver, transaction_id=transaction_id, now=now)
        _ensure_within_approval_limit(approver=approver, txn=txn)
        original, original_entries = _still_reversible(txn) if txn.kind == TransactionKind.REVERSAL else (None, [])
        accounts = lock_accounts([txn.source_id, txn.destination_id, *(e.account_id for e in original_entries)])
        for account in accounts.values():
            ensure_open(account)
        _release_hold(txn, accounts[txn.source_id])
        txn.status = TransactionStatus.POSTED
        txn.posted_at = now
        txn.decided_by = approver
        txn.decided_at = now
        txn.save(update_fields=["status", "posted_at", "decided_by", "decided_at"])
        count_transactions([(txn.kind, txn.status)])
        legs = reversal_legs(original_entries, accounts) if original else legs_for(txn, accounts)
        post(txn, legs, at=now)
        audit_record(
            actor=approver,
            action=actions.TRANSACTION_APPROVED,
            target_type="transaction",
            target_id=txn.pk,
            data=transaction_audit_data(txn) | {"initiated_by": txn.initiated_by_id},
        )
        if original:
            audit_record(
                actor=approver,
                action=actions.TRANSACTION_REVERSED,
                target_type="transaction",
                target_id=original.pk,
                data=transaction_audit_data(original) | {"reversal": txn.pk, "requested_by": txn.initiated_by_id},
            )
        return txn


def transaction_reject(*, approver: User, transaction_id: int, reason: str) -> Transaction:
    """Refuse a pending transaction: nothing posts and its hold is released.

    Errors: permission_denied, not_found, not_pending, validation_error (no reason).
    """
    require_staff(approver)
    reason = require_reason(reason)
    now = timezone.now()
    with transaction.atomic():
        txn = _lock_pending(decider=approver, transaction_id=transaction_id, now=now)
        _end_unposted(txn, TransactionStatus.REJECTED, actor=approver, action=actions.TRANSACTION_REJECTED, at=now,
                      reason=reason, data={"reason": reason})
        return txn


def pending_expire(*, now: datetime | None = None) -> int:
    """Void every pending transaction past its expiry (status `voided`, audit action
    `transaction.expired`) and release its hold. Returns how many.
    Each one is voided in its own transaction, so a long backlog never holds many locks."""
    now = now or timezone.now()
    expired = 0
    candidates = Transaction.objects.filter(status=TransactionStatus.PENDING, expires_at__lte=now)
    for transaction_id in candidates.values_list("pk", flat=True).order_by("pk"):
        with transaction.atomic():
            txn = lock_transaction(transaction_id)
            if txn is None or txn.status != TransactionStatus.PENDING:
                continue  # decided meanwhile
            _end_unposted(txn, TransactionStatus.VOIDED, actor=None, action=actions.TRANSACTION_EXPIRED, at=now,
                          reason="Expired without a decision.")
            expired += 1
    return expired


def transaction_cancel(*, actor: User, transaction_id: int) -> Transaction:
    """Withdraw a pending transaction before anyone decides it: it becomes `cancelled`, nothing
    posts and its hold is released (available restored, balance unchanged).

    The customer who initiated it may cancel it; staff may cancel any. A customer who cannot see
    the transaction gets not_found (never learning that it exists); one who can see it (the payee,
    or the holder of an account a member of staff debited) but did not initiate it gets
    permission_denied.

    Errors: not_found, permission_denied, not_pending (decided, cancelled or voided).
    """
    now = timezone.now()
    with transaction.atomic():
        transaction_for_user(actor, transaction_id)  # not_found for whoever may not see it
        txn = lock_transaction(transaction_id)
        if txn is None:
            raise NotFound("Transaction not found.")
        if not actor.is_bank_staff and txn.initiated_by_id != actor.pk:
            raise ApplicationError("permission_denied", "Only whoever made this transaction may cancel it.")
        if txn.status != TransactionStatus.PENDING:
            raise ApplicationError("not_pending", f"This transaction is {txn.status}, not pending.")
        if txn.expires_at and txn.expires_at <= now:
            raise ApplicationError("not_pending", "This transaction has expired.")
        _end_unposted(txn, TransactionStatus.CANCELLED, actor=actor, action=actions.TRANSACTION_CANCELLED, at=now,
                      data={"initiated_by": txn.initiated_by_id})
        return txn
