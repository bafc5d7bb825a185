"""A notification's title and body, written when it is read, in the reader's language (the
request's, or the one active in the notifier when it announces one). The notification keeps only
its kind and its facts (models.Notification.params), so a customer who switches to French reads
every notification in French, old ones included."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from django.utils.translation import gettext as _

from core.templatetags.money import format_money
from notifications.models import NotificationKind


@dataclass(frozen=True)
class Text:
    title: str
    body: str


def _amount(params: Mapping) -> str:
    return format_money(int(params.get("amount_minor") or 0), str(params.get("currency") or ""))


def _iban(params: Mapping, key: str = "iban") -> str:
    compact = "".join(str(params.get(key) or "").split())
    return " ".join(compact[i : i + 4] for i in range(0, len(compact), 4))


def _payee(params: Mapping) -> str:
    return str(params.get("payee") or "") or _iban(params, "payee_iban")


def _money_in(params: Mapping) -> Text:
    payer = str(params.get("payer") or "") or _iban(params, "payer_iban")
    return Text(_("Money received"), _("%(payer)s sent you %(amount)s.") % {"payer": payer, "amount": _amount(params)})


def _approved(params: Mapping) -> Text:
    return Text(_("Transfer approved"), _("Your transfer of %(amount)s to %(payee)s was approved and has been made.")
                % {"amount": _amount(params), "payee": _payee(params)})


def _rejected(params: Mapping) -> Text:
    return Text(_("Transfer rejected"), _("Your transfer of %(amount)s to %(payee)s was not approved. The money "
                                          "set aside for it is available again.")
                % {"amount": _amount(params), "payee": _payee(params)})


def _expired(params: Mapping) -> Text:
    return Text(_("Transfer expired"), _("Your transfer of %(amount)s to %(payee)s was not approved in time. The "
                                         "money set aside for it is available again.")
                % {"amount": _amount(params), "payee": _payee(params)})


def _returned(params: Mapping) -> Text:
    return Text(_("Transfer returned"), _("Your transfer of %(amount)s to %(payee)s came back from the other bank. "
                                          "The money is on your account again.")
                % {"amount": _amount(params), "payee": _payee(params)})


def _frozen(params: Mapping) -> Text:
    body = _("Your account %(iban)s is frozen: no money can go in or out of it for now.") % {"iban": _iban(params)}
    if params.get("reason"):
        body = f"{body} " + _("Reason: %(reason)s") % {"reason": params["reason"]}
    return Text(_("Account frozen"), body)


def _unfrozen(params: Mapping) -> Text:
    return Text(_("Account active again"),
                _("Your account %(iban)s is active again: money can go in and out of it.") % {"iban": _iban(params)})


WRITERS: dict[str, Callable[[Mapping], Text]] = {
    NotificationKind.MONEY_IN: _money_in,
    NotificationKind.TRANSFER_APPROVED: _approved,
    NotificationKind.TRANSFER_REJECTED: _rejected,
    NotificationKind.TRANSFER_EXPIRED: _expired,
    NotificationKind.TRANSFER_RETURNED: _returned,
    NotificationKind.ACCOUNT_FROZEN: _frozen,
    NotificationKind.ACCOUNT_UNFROZEN: _unfrozen,
}


def notification_text(kind: str, params: Mapping) -> Text:
    """The title and body of a notification in the active language."""
    writer = WRITERS.get(kind)
    if writer is None:  # a kind a newer notifier wrote: still something to read
        return Text(_("Notification"), "")
    return writer(params or {})
