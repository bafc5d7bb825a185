"""Domain rules that a page shows before acting and a service enforces (STYLE.md, "Rules once, in
the domain"): the service calls the `check_` function and refuses; the view calls the `may_`
function to decide what to offer. Both read the same rule, so the page can never offer what the
service would refuse, nor the other way round."""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext as _

from banking.models import Account, Transaction, TransactionKind, TransactionStatus
from core.errors import ApplicationError
from core.money import decimal_to_minor, format_minor


def may_spend(account: Account, amount: int) -> bool:
    """Has `account` `amount` (minor units) available: balance, less what is held, plus its
    overdraft limit? The rule banking.ledger.ensure_available enforces when the money moves (or is
    held, for a transfer that waits for approval); a page asks it first to say so before the
    customer confirms. The bank's internal accounts are never short."""
    return account.is_internal or account.available >= amount


def may_set_overdraft(user, overdraft_limit: int | None = None) -> bool:
    """May `user` give an account the overdraft limit `overdraft_limit` (minor units)?

    Only a supervisor sets an overdraft, at opening or later (DESIGN.md, "Four eyes"): an
    overdraft is credit the bank extends, and an agent who could grant it could let a customer
    (or themselves, through a customer) spend money that does not exist. A zero limit is no
    overdraft at all, what every account opens with, so it needs no one's permission (who may open
    an account is the opening service's own rule).

    Without `overdraft_limit` the question is "may they set one at all": what a page asks to
    decide whether to show the field, and what changing an existing account's limit requires,
    whatever the new value (lowering a limit is a credit decision too).
    """
    if overdraft_limit == 0:
        return True
    return bool(getattr(user, "is_supervisor", False))


def check_may_set_overdraft(user, overdraft_limit: int | None = None) -> None:
    """Raise permission_denied unless `may_set_overdraft(user, overdraft_limit)`."""
    if not may_set_overdraft(user, overdraft_limit):
        raise ApplicationError("permission_denied", _("Only a supervisor may set an overdraft limit."))


def reversal_refusal(original: Transaction, *, standing_reversal: Transaction | None) -> ApplicationError | None:
    """Why `original` cannot be reversed now, or None when it can.

    `standing_reversal` is its pending or posted reversal, if any (selectors.standing_reversal_of):
    a pending one blocks a second request as a posted one does, so a transaction is reversed at
    most once; a rejected or voided one moved nothing and blocks nothing."""
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


def transfer_needs_approval(amount: int) -> bool:
    """A transfer of `amount` minor units at or above FLUX_APPROVAL_THRESHOLD waits, its amount
    held, for a member of staff to approve it (four eyes)."""
    return amount >= decimal_to_minor(settings.FLUX_APPROVAL_THRESHOLD)


def cash_needs_approval(amount: int) -> bool:
    """A cash deposit or withdrawal at or above FLUX_CASH_APPROVAL_THRESHOLD waits for a second
    member of staff."""
    return amount >= decimal_to_minor(settings.FLUX_CASH_APPROVAL_THRESHOLD)


def agent_approval_limit() -> int:
    """The largest amount an agent may approve (FLUX_AGENT_APPROVAL_LIMIT), in minor units."""
    return decimal_to_minor(settings.FLUX_AGENT_APPROVAL_LIMIT)


def approval_limit(user) -> int | None:
    """The largest amount `user` may approve: the agent limit, or None (no limit) for a supervisor."""
    return None if getattr(user, "is_supervisor", False) else agent_approval_limit()


def approval_limit_refusal(user, txn: Transaction) -> ApplicationError | None:
    """Why `user` may not approve `txn` for its amount, or None when they may."""
    limit = approval_limit(user)
    if limit is None or txn.amount <= limit:
        return None
    return ApplicationError(
        "approval_limit_exceeded",
        f"An agent approves up to {format_minor(limit)} {txn.currency}; this transaction of "
        f"{format_minor(txn.amount)} {txn.currency} needs a supervisor.",
    )
