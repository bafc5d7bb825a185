"""Account lifecycle: open, freeze, unfreeze, close; the overdraft limit."""

from __future__ import annotations

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from audit import actions
from audit.services import audit_record
from banking.iban import generate_flux_iban
from banking.locks import lock_accounts
from banking.models import CUSTOMER_KINDS, Account, AccountStatus
from banking.policies import check_may_set_overdraft
from banking.services.common import require_reason
from core.errors import ApplicationError, NotFound, ValidationFailed
from core.money import format_minor
from identity.models import Role, User
from identity.permissions import require_staff


def account_open(
    *, actor: User, customer_id: int, kind: str, currency: str | None = None, overdraft_limit: int = 0
) -> Account:
    """Open a checking or savings account for a customer, with a fresh Flux IBAN.

    Any member of staff opens an account; only a supervisor opens it with an overdraft (a non-zero
    `overdraft_limit`, banking/policies.py): an agent asking for one is refused before anything is
    written, whatever else the request says.

    Errors: permission_denied (not staff, or an overdraft asked by someone other than a
    supervisor), validation_error (unknown customer, kind, currency, negative overdraft).
    """
    require_staff(actor)
    check_may_set_overdraft(actor, overdraft_limit)
    currency = (currency or settings.FLUX_DEFAULT_CURRENCY).upper()
    errors: dict[str, list[str]] = {}
    customer = User.objects.filter(pk=customer_id, role=Role.CUSTOMER, is_active=True).first()
    if customer is None:
        errors["customer"] = ["No active customer has this id."]
    if kind not in CUSTOMER_KINDS:
        errors["kind"] = [f"Choose one of: {', '.join(CUSTOMER_KINDS)}."]
    if currency not in settings.FLUX_CURRENCIES:
        errors["currency"] = [f"Choose one of: {', '.join(settings.FLUX_CURRENCIES)}."]
    if overdraft_limit < 0:
        errors["overdraft_limit"] = ["The overdraft limit cannot be negative."]
    if errors:
        raise ValidationFailed(errors)

    for _attempt in range(5):
        iban = generate_flux_iban()
        try:
            with transaction.atomic():
                account = Account.objects.create(
                    iban=iban,
                    kind=kind,
                    currency=currency,
                    customer=customer,
                    overdraft_limit=overdraft_limit,
                    opened_at=timezone.now(),
                )
                audit_record(
                    actor=actor,
                    action=actions.ACCOUNT_OPENED,
                    target_type="account",
                    target_id=account.pk,
                    data={
                        "iban": account.iban,
                        "kind": kind,
                        "currency": currency,
                        "customer": customer.pk,
                        "overdraft_limit": format_minor(overdraft_limit),
                    },
                )
                return account
        except IntegrityError:
            if not Account.objects.filter(iban=iban).exists():
                raise
    raise RuntimeError("could not find a free IBAN")  # 10^10 codes: practically unreachable


def _change_status(*, actor: User, account_id: int, reason: str, action: str, change) -> Account:
    require_staff(actor)
    reason = require_reason(reason)
    with transaction.atomic():
        account = lock_accounts([account_id]).get(int(account_id))
        if account is None or account.is_internal:
            raise NotFound("Account not found.")
        before = account.status
        change(account)
        account.save(update_fields=["status", "closed_at"])
        audit_record(
            actor=actor,
            action=action,
            target_type="account",
            target_id=account.pk,
            data={"iban": account.iban, "reason": reason, "from": before, "to": account.status},
        )
        return account


def account_freeze(*, actor: User, account_id: int, reason: str) -> Account:
    """Freeze an active account: it takes no debit and no credit until unfrozen.

    Errors: account_frozen (already), account_closed, not_found, validation_error (no reason).
    """

    def change(account: Account) -> None:
        if account.status == AccountStatus.FROZEN:
            raise ApplicationError("account_frozen", "The account is already frozen.")
        if account.status == AccountStatus.CLOSED:
            raise ApplicationError("account_closed", "The account is closed.")
        account.status = AccountStatus.FROZEN

    return _change_status(
        actor=actor, account_id=account_id, reason=reason, action=actions.ACCOUNT_FROZEN, change=change
    )


def account_unfreeze(*, actor: User, account_id: int, reason: str) -> Account:
    """Make a frozen account active again. Errors: account_not_frozen, account_closed, not_found."""

    def change(account: Account) -> None:
        if account.status == AccountStatus.CLOSED:
            raise ApplicationError("account_closed", "The account is closed.")
        if account.status != AccountStatus.FROZEN:
            raise ApplicationError("account_not_frozen", "The account is not frozen.")
        account.status = AccountStatus.ACTIVE

    return _change_status(
        actor=actor, account_id=account_id, reason=reason, action=actions.ACCOUNT_UNFROZEN, change=change
    )


def account_close(*, actor: User, account_id: int, reason: str) -> Account:
    """Close an account for good. Only with a zero balance and nothing held.

    Errors: account_closed (already), account_not_empty, not_found, validation_error.
    """

    def change(account: Account) -> None:
        if account.status == AccountStatus.CLOSED:
            raise ApplicationError("account_closed", "The account is already closed.")
        if account.balance != 0 or account.held != 0:
            raise ApplicationError(
                "account_not_empty",
                f"Only an account with a zero balance and nothing pending can be closed; the balance "
                f"is {format_minor(account.balance)} {account.currency}.",
            )
        account.status = AccountStatus.CLOSED
        account.closed_at = timezone.now()

    return _change_status(
        actor=actor, account_id=account_id, reason=reason, action=actions.ACCOUNT_CLOSED, change=change
    )


def account_set_overdraft_limit(*, actor: User, account_id: int, overdraft_limit: int, reason: str) -> Account:
    """Change how far below zero a customer account may go. Supervisors only. Lowering it is
    refused when the account already uses more than the new limit (balance minus holds below
    minus the new limit). Audited as `account.overdraft_changed` with the old and new limits.

    Errors: permission_denied (not a supervisor, whatever the new limit: banking/policies.py),
    not_found, account_closed, insufficient_funds (the new limit is below what is already used),
    validation_error (negative, no reason).
    """
    check_may_set_overdraft(actor)
    reason = require_reason(reason)
    if not isinstance(overdraft_limit, int) or isinstance(overdraft_limit, bool) or overdraft_limit < 0:
        raise ValidationFailed({"overdraft_limit": ["The overdraft limit cannot be negative."]})
    with transaction.atomic():
        account = lock_accounts([account_id]).get(int(account_id))
        if account is None or account.is_internal:
            raise NotFound("Account not found.")
        if account.status == AccountStatus.CLOSED:
            raise ApplicationError("account_closed", "The account is closed.")
        if account.balance - account.held < -overdraft_limit:
            raise ApplicationError(
                "insufficient_funds",
                f"The account already uses {format_minor(account.held - account.balance)} "
                f"{account.currency} of overdraft: the limit cannot go below that.",
            )
        before = account.overdraft_limit
        account.overdraft_limit = overdraft_limit
        account.save(update_fields=["overdraft_limit"])
        audit_record(
            actor=actor,
            action=actions.ACCOUNT_OVERDRAFT_CHANGED,
            target_type="account",
            target_id=account.pk,
            data={
                "iban": account.iban,
                "reason": reason,
                "from": format_minor(before),
                "to": format_minor(overdraft_limit),
            },
        )
        return account
