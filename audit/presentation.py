"""Audit events as people read them on the staff pages (the desk's customer page, the audit
dashboard): what happened in words, and the details that matter (amount, reason, the person
concerned) instead of bare codes and ids. The action code stays beside it for whoever searches."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext_lazy as _

from audit import actions
from core.templatetags.money import format_money

ACTION_LABELS = {
    actions.AUTH_LOGIN: _("Signed in"),
    actions.AUTH_LOGIN_FAILED: _("Failed sign-in"),
    actions.AUTH_LOGOUT: _("Signed out"),
    actions.AUTH_PASSWORD_CHANGED: _("Password changed"),
    actions.AUTH_TOKEN_REUSED: _("Reused sign-in token: sessions revoked"),
    actions.AUTH_PASSWORD_LINK_SENT: _("Password link sent"),
    actions.AUTH_PASSWORD_SET: _("Password chosen"),
    actions.AUTH_LOCKED_OUT: _("Locked out"),
    actions.AUTH_UNLOCKED: _("Unlocked"),
    actions.AUTH_2FA_ENROLLED: _("Two-factor sign-in set up"),
    actions.AUTH_2FA_RESET: _("Two-factor sign-in reset"),
    actions.STAFF_CREATED: _("Staff member created"),
    actions.STAFF_DEACTIVATED: _("Staff member deactivated"),
    actions.STAFF_REACTIVATED: _("Staff member reactivated"),
    actions.CUSTOMER_CREATED: _("Customer onboarded"),
    actions.CUSTOMER_UPDATED: _("Contact details changed"),
    actions.BENEFICIARY_ADDED: _("Beneficiary added"),
    actions.BENEFICIARY_RENAMED: _("Beneficiary renamed"),
    actions.BENEFICIARY_DELETED: _("Beneficiary deleted"),
    actions.ACCOUNT_OPENED: _("Account opened"),
    actions.ACCOUNT_FROZEN: _("Account frozen"),
    actions.ACCOUNT_UNFROZEN: _("Account unfrozen"),
    actions.ACCOUNT_CLOSED: _("Account closed"),
    actions.ACCOUNT_OVERDRAFT_CHANGED: _("Overdraft limit changed"),
    actions.TRANSACTION_POSTED: _("Transaction posted"),
    actions.TRANSACTION_PENDING: _("Waiting for approval"),
    actions.TRANSACTION_APPROVED: _("Approved"),
    actions.TRANSACTION_REJECTED: _("Rejected"),
    actions.TRANSACTION_EXPIRED: _("Expired without a decision"),
    actions.TRANSACTION_REVERSED: _("Reversal requested"),
    actions.IMPORT_UPLOADED: _("Bulk file uploaded"),
    actions.IMPORT_STARTED: _("Bulk file applied"),
}


def _amount(data: Mapping) -> str:
    """"12,000.00 EUR" in the active language, from an event's decimal string and currency."""
    amount = data.get("amount")
    if amount in (None, ""):
        return ""
    try:
        minor = int(Decimal(str(amount)) * 100)
    except (InvalidOperation, ValueError):
        return ""
    return format_money(minor, str(data.get("currency") or ""))


def event_details(action: str, data: Mapping | None) -> dict[str, str]:
    """`label` (what happened, in words), `amount`, `reason` and `about` (the user an event
    concerns, by username: a staff member created, a customer onboarded), each "" when the event
    has none."""
    data = data or {}
    return {
        "label": str(ACTION_LABELS.get(action, action)),
        "amount": _amount(data),
        "reason": str(data.get("reason") or ""),
        "about": str(data.get("username") or ""),
    }
