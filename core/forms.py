"""Pages and the services: one way to show a refusal on a form, and one flow for a page that
moves money (FormOnce)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from django import forms
from django.http import HttpRequest, HttpResponse
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from core.errors import ApplicationError, ErrorCode
from core.idempotency import Outcome, fingerprint, run_once
from core.money import AmbiguousAmountError, AmountError, parse_typed_amount

# Where a page shows a refusal, per code it says in a person's words (the code's sentence,
# core.errors.ErrorCode.message): next to that form field, or on top of the form (None). A code the
# page does not list shows the service's own message, which may carry data (an amount, a limit).
RefusalFields = Mapping[ErrorCode, str | None]


def add_refusal(form: forms.Form, error: ApplicationError, refusal_fields: RefusalFields | None = None) -> None:
    """Put a service's refusal on `form`: the code's sentence when `refusal_fields` lists its code
    (next to its field, or on top), else the service's per-field messages next to their fields
    (on top for a field the form does not have), else the service's message on top."""
    if refusal_fields is not None and error.code in refusal_fields:
        field = refusal_fields[error.code]
        form.add_error(field if field in form.fields else None, str(error.code.message))
    elif error.fields:
        for field, messages in error.fields.items():
            for message in messages:
                form.add_error(field if field in form.fields else None, message)
    else:
        form.add_error(None, error.message)


def refusal_message(error: ApplicationError, refusal_fields: RefusalFields | None = None) -> str:
    """The one sentence a page shows for a refusal that concerns no form field: the code's sentence
    when the page lists the code, else the service's message."""
    if refusal_fields is not None and error.code in refusal_fields:
        return str(error.code.message)
    return error.message


def clean_typed_amount(value: str, *, invalid: str, allow_zero: bool = False) -> int:
    """An amount typed on a page in minor units: in the display format of the active language
    ("1 234,50" in French, "1,234.50" in English) or as a plain decimal (core.money.parse_typed_amount).
    A form error otherwise: `invalid`, or, for an amount that reads two ways, a sentence saying so."""
    try:
        return parse_typed_amount(value, language=get_language() or "en", allow_zero=allow_zero)
    except AmbiguousAmountError:
        raise forms.ValidationError(
            _("“%(amount)s” reads two ways: type the amount without a thousands separator, such as 1234.50."),
            code="ambiguous", params={"amount": value},
        ) from None
    except AmountError:
        raise forms.ValidationError(invalid, code="invalid") from None


@dataclass(frozen=True)
class FormOnce:
    """A page that moves money, in three steps: the form, a confirmation page, then the operation,
    run once for the form's hidden `token` (core/idempotency.py: a double click, a reload or a
    second tab replays the first answer), and post/redirect/get to its result. Back from the
    confirmation (`step=edit`) the form comes again with the same values and token.

    A refusal shows the form again with the refusal on it (add_refusal and `refusal_fields`) and a new
    token: the old one holds the refusal, so what is sent from there is a new operation.
    Used by the customer's transfer (portal) and the counter's cash (workspace)."""

    key_prefix: str
    # The form: bound to `data`, or unbound with `initial`.
    form: Callable[..., forms.Form]
    render_form: Callable[[forms.Form, int, ApplicationError | None], HttpResponse]
    render_confirm: Callable[[forms.Form], HttpResponse]
    # What the operation is asked to do (its fingerprint's parts), from the valid form's data.
    fingerprint_parts: Callable[[dict], tuple]
    # The operation itself: (status, body) as run_once keeps them.
    operation: Callable[[dict], tuple[int, dict]]
    # The answer to a done operation, usually a redirect to its result.
    done: Callable[[Outcome], HttpResponse]
    refusal_fields: RefusalFields | None = None

    def post(self, request: HttpRequest) -> HttpResponse:
        step = request.POST.get("step")
        if step == "edit":
            return self.render_form(self.form(initial=request.POST.dict()), 200, None)
        form = self.form(data=request.POST)
        if not form.is_valid():
            return self.render_form(form, 400, None)
        if step != "confirm":
            return self.render_confirm(form)
        data = form.cleaned_data
        try:
            outcome = run_once(
                user=request.user,
                key=f"{self.key_prefix}{data['token'].hex}",
                fingerprint=fingerprint(*self.fingerprint_parts(data)),
                operation=lambda: self.operation(data),
            )
        except ApplicationError as error:
            retry = request.POST.copy()
            retry["token"] = str(uuid.uuid4())
            form = self.form(data=retry)
            form.is_valid()
            add_refusal(form, error, self.refusal_fields)
            return self.render_form(form, error.status, error)
        return self.done(outcome)
