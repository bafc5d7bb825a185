"""What the workspace's pages share: the amount field, the service refusals said for a person,
and the way a refusal reaches a form."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core import forms as core_forms
from core.errors import ApplicationError, ErrorCode

# The services' refusals the desk says in a person's words (each code's sentence,
# core.errors.ErrorCode), on top of the form. Codes not listed show the service's message.
REFUSAL_FIELDS: dict[ErrorCode, str | None] = dict.fromkeys([
    ErrorCode.INSUFFICIENT_FUNDS,
    ErrorCode.ACCOUNT_FROZEN,
    ErrorCode.ACCOUNT_CLOSED,
    ErrorCode.ACCOUNT_NOT_FROZEN,
    ErrorCode.ACCOUNT_NOT_EMPTY,
    ErrorCode.NOT_PENDING,
    ErrorCode.NOT_POSTED,
    ErrorCode.ALREADY_REVERSED,
    ErrorCode.NOT_REVERSIBLE,
    ErrorCode.IDEMPOTENCY_KEY_REUSED,
])


def refusal_message(error: ApplicationError) -> str:
    """One sentence for the desk. The approval rules keep the service's message (it names the
    initiator rule or the limit and the amount)."""
    return core_forms.refusal_message(error, REFUSAL_FIELDS)


def add_refusal(form: forms.Form, error: ApplicationError) -> None:
    """Put a service refusal on a desk form (core.forms.add_refusal with the desk's codes)."""
    core_forms.add_refusal(form, error, REFUSAL_FIELDS)


class AmountField(forms.CharField):
    """An amount as typed at the desk ("12.50", "1 234,50" in French) in minor units."""

    def __init__(self, *, allow_zero: bool = False, **kwargs):
        self.allow_zero = allow_zero
        super().__init__(**kwargs)  # no max_length: its validator would run on the parsed int

    def to_python(self, value):
        value = super().to_python(value).strip()
        if value in self.empty_values:
            return None
        # "1 234,50" in French, "1,234.50" in English, or a plain decimal (core.forms).
        return core_forms.clean_typed_amount(
            value, invalid=_("Enter an amount such as 12.50 (at most two decimals)."), allow_zero=self.allow_zero
        )


class ReasonForm(forms.Form):
    reason = forms.CharField(max_length=500, label=gettext_lazy("Reason"))

    def clean_reason(self) -> str:
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise forms.ValidationError(_("Give a reason."))
        return reason
