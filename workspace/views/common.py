"""What the workspace's pages share: the amount field, the service refusals said for a person,
and the way a refusal reaches a form."""

from __future__ import annotations

import re

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core import forms as core_forms
from core.errors import ApplicationError
from core.money import AmountError, parse_amount

DECIMAL_COMMA = re.compile(r"\A[0-9]+,[0-9]{1,2}\Z")

# The services' refusals, said for the person at the desk. Codes not listed show the service's message.
REFUSALS: dict[str, str] = {
    "insufficient_funds": gettext_lazy("There is not enough money available on this account."),
    "account_frozen": gettext_lazy("The account is frozen: no money can go in or out of it."),
    "account_closed": gettext_lazy("The account is closed."),
    "account_not_frozen": gettext_lazy("The account is not frozen."),
    "account_not_empty": gettext_lazy("Only an account with a zero balance and nothing pending can be closed."),
    "not_pending": gettext_lazy("This transaction is no longer waiting for a decision."),
    "not_posted": gettext_lazy("Only a posted transaction can be reversed."),
    "already_reversed": gettext_lazy("This transaction has already been reversed."),
    "not_reversible": gettext_lazy("A reversal cannot itself be reversed."),
    "idempotency_key_reused": gettext_lazy(
        "This form was already used for another operation. Check the details and confirm again."
    ),
}


def refusal_message(error: ApplicationError) -> str:
    """One sentence for the desk. The approval rules keep the service's message (it names the
    initiator rule or the limit and the amount)."""
    return core_forms.refusal_message(error, REFUSALS)


def add_refusal(form: forms.Form, error: ApplicationError) -> None:
    """Put a service refusal on a desk form (core.forms.add_refusal with the desk's sentences)."""
    core_forms.add_refusal(form, error, REFUSALS)


class AmountField(forms.CharField):
    """An amount as typed at the desk ("12.50", or "12,50" in French) in minor units."""

    def __init__(self, *, allow_zero: bool = False, **kwargs):
        self.allow_zero = allow_zero
        super().__init__(**kwargs)  # no max_length: its validator would run on the parsed int

    def to_python(self, value):
        value = super().to_python(value).strip()
        if value in self.empty_values:
            return None
        if DECIMAL_COMMA.match(value):
            value = value.replace(",", ".")
        try:
            return parse_amount(value, allow_zero=self.allow_zero)
        except AmountError:
            raise forms.ValidationError(
                _("Enter an amount such as 12.50 (at most two decimals)."), code="invalid"
            ) from None


class ReasonForm(forms.Form):
    reason = forms.CharField(max_length=500, label=gettext_lazy("Reason"))

    def clean_reason(self) -> str:
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise forms.ValidationError(_("Give a reason."))
        return reason
