"""core.forms.add_refusal and refusal_message: a code the page lists is said with the code's
sentence (core.errors.ErrorCode), next to the page's field for it or on top; any other code shows
the service's own message (which may carry data), or its per-field messages."""

from __future__ import annotations

from django import forms
from django.utils import translation

from core.errors import ApplicationError, ErrorCode, ValidationFailed
from core.forms import add_refusal, refusal_message

REFUSAL_FIELDS = {ErrorCode.INSUFFICIENT_FUNDS: "amount", ErrorCode.ACCOUNT_FROZEN: None,
                  ErrorCode.UNKNOWN_ACCOUNT: "not_a_field_here"}
SERVICE_SAYS = "Account NL20FLUX0000000017 does not have enough available funds."


class AmountForm(forms.Form):
    amount = forms.CharField()
    reference = forms.CharField(required=False)


def refused(error: ApplicationError, refusal_fields=REFUSAL_FIELDS) -> AmountForm:
    form = AmountForm(data={"amount": "12.00"})
    assert form.is_valid()
    add_refusal(form, error, refusal_fields)
    return form


def test_a_listed_code_is_said_with_its_sentence_next_to_its_field():
    form = refused(ApplicationError("insufficient_funds", SERVICE_SAYS))
    assert form.errors == {"amount": ["There is not enough money available on this account."]}


def test_a_listed_code_without_a_field_or_with_one_the_form_lacks_goes_on_top():
    assert refused(ApplicationError("account_frozen", "Account X is frozen.")).errors == {
        "__all__": ["One of the accounts is frozen: no money can go in or out of it."]}
    assert refused(ApplicationError("unknown_account", "No Flux account has the IBAN X.")).errors == {
        "__all__": ["No open Flux account has this IBAN."]}


def test_a_code_not_listed_shows_the_services_message_or_its_fields():
    limit = ApplicationError("approval_limit_exceeded", "An agent approves up to 10,000.00 EUR.")
    assert refused(limit).errors == {"__all__": ["An agent approves up to 10,000.00 EUR."]}
    assert refused(limit, None).errors == {"__all__": ["An agent approves up to 10,000.00 EUR."]}
    fields = ValidationFailed({"reference": ["Too long."], "elsewhere": ["Not here."]})
    assert refused(fields).errors == {"reference": ["Too long."], "__all__": ["Not here."]}


def test_the_sentence_is_in_the_language_of_the_page():
    with translation.override("fr"):
        form = refused(ApplicationError("insufficient_funds", SERVICE_SAYS))
        assert form.errors == {"amount": ["Le disponible de ce compte est insuffisant."]}
        assert refusal_message(ApplicationError("account_frozen", "Account X is frozen."), REFUSAL_FIELDS) == (
            "L’un des comptes est gelé\u00a0: aucun argent ne peut y entrer ni en sortir.")


def test_refusal_message_is_the_codes_sentence_only_for_a_listed_code():
    assert refusal_message(ApplicationError("account_frozen", "Account X is frozen."), REFUSAL_FIELDS) == (
        "One of the accounts is frozen: no money can go in or out of it.")
    assert refusal_message(ApplicationError("not_pending", "This transaction is rejected, not pending."),
                           REFUSAL_FIELDS) == "This transaction is rejected, not pending."
    assert refusal_message(ApplicationError("not_pending", "This transaction has expired.")) == (
        "This transaction has expired.")
