"""The transfer form: step 1 (what and where), step 2 (confirm), then the result.

Double-submit safety: a token is minted when the form first renders and travels, as a hidden
field, through the confirmation step; the final submit uses it as the idempotency key of
core/idempotency.py (the same mechanism and the same IdempotencyKey rows as the API's
Idempotency-Key header). A double click, a reload of the result or back-and-resubmit replays the
first outcome and moves the money once.

A refusal is an outcome too, stored under the token like a success: sending that confirmation
again (back, then confirm) shows the same refusal, even if the money has arrived since, rather
than paying behind the customer's back. The form shown with the refusal carries a NEW token, so the
customer can correct it (or simply try again, knowingly) as a new transfer.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from banking import services
from banking.access import account_for_user, accounts_visible_to, beneficiaries_visible_to, transaction_for_user
from banking.api.payees import PayeeCheckRateThrottle
from banking.iban import normalize_iban, parse_iban
from banking.models import Account, AccountStatus, Beneficiary, PayeeCheck
from banking.payees import payee_check
from banking.policies import may_spend, transfer_needs_approval
from banking.services.movements import validate_beneficiary_name
from core.errors import ApplicationError, ErrorCode, NotFound
from core.forms import FormOnce, add_refusal, clean_typed_amount
from core.templatetags.money import format_money
from portal.templatetags.portal_format import account_kind_label, iban_groups
from portal.views.customer import customer_required

TOKEN_PREFIX = "portal-transfer:"

OWN, BENEFICIARY, IBAN = "own", "beneficiary", "iban"
DESTINATION_TYPES = [
    (OWN, gettext_lazy("One of my accounts")),
    (BENEFICIARY, gettext_lazy("A saved beneficiary")),
    (IBAN, gettext_lazy("Another IBAN")),
]

# The service's refusals said in a person's words (each code's sentence, core.errors.ErrorCode),
# next to the field they concern (None: on top of the form). Not listed, so the service's own
# sentence shows: a frozen or closed account, which names the customer's own account but says of
# another customer's only that the payment cannot be made to it (banking's ensure_open_for).
REFUSAL_FIELDS: dict[ErrorCode, str | None] = {
    ErrorCode.INSUFFICIENT_FUNDS: "amount",
    ErrorCode.INVALID_IBAN: "iban",
    # The destination may be one of the customer's accounts or a beneficiary, not a typed IBAN.
    ErrorCode.UNKNOWN_ACCOUNT: None,
    ErrorCode.SAME_ACCOUNT: None,
    ErrorCode.CURRENCY_MISMATCH: None,
    ErrorCode.NOT_FOUND: "source",
    ErrorCode.IDEMPOTENCY_KEY_REUSED: None,
}


def account_label(account: Account) -> str:
    """Short enough for a select on a 360-pixel phone: kind, the IBAN's last digits, what is available."""
    kind = account.get_kind_display()
    return f"{kind} …{account.iban[-4:]} · {format_money(account.available, account.currency)}"


class TransferForm(forms.Form):
    """What the customer asks for. Shape only: the rules are transfer_create's."""

    token = forms.UUIDField(widget=forms.HiddenInput)
    source = forms.TypedChoiceField(coerce=int, label=gettext_lazy("From"))
    destination_type = forms.ChoiceField(choices=DESTINATION_TYPES, widget=forms.RadioSelect,
                                         label=gettext_lazy("To"))
    destination_account = forms.TypedChoiceField(coerce=int, required=False, label=gettext_lazy("My account"))
    beneficiary = forms.TypedChoiceField(coerce=int, required=False, label=gettext_lazy("Beneficiary"))
    iban = forms.CharField(max_length=64, required=False, label=gettext_lazy("IBAN"))
    amount = forms.CharField(max_length=20, label=gettext_lazy("Amount"))
    reference = forms.CharField(max_length=140, required=False, label=gettext_lazy("Reference (optional)"))
    # The payee's name for a typed IBAN (a beneficiary's is its saved name): checked against the
    # holder (verification of payee, banking/payees.py) and kept with the transfer.
    beneficiary_name = forms.CharField(max_length=70, required=False, label=gettext_lazy("Payee's name"))
    # Required when the check says the name does not match: the payer says they checked.
    payee_confirmed = forms.BooleanField(required=False, label=gettext_lazy("I have checked the details"))

    def __init__(self, *args, accounts: list[Account], beneficiaries: list[Beneficiary],
                 payee_check_allowed: Callable[[], bool] = lambda: True, **kwargs):
        super().__init__(*args, **kwargs)
        # Counts one check against the customer's `payee_check` rate: the form's answer (match or
        # not, a close match's name) must not be a way around the rate of the check itself.
        self.payee_check_allowed = payee_check_allowed
        self.accounts = {account.pk: account for account in accounts}
        self.beneficiaries = {beneficiary.pk: beneficiary for beneficiary in beneficiaries}
        # Only active accounts are offered, but any open one is accepted, so that an account frozen
        # since the form was shown gets the service's clear account_frozen rather than a bad choice.
        self.active_accounts = [account for account in accounts if account.status == AccountStatus.ACTIVE]
        self.active_options = [(account.pk, account_label(account)) for account in self.active_accounts]
        open_choices = [(account.pk, account_label(account)) for account in accounts]
        self.fields["source"].choices = open_choices
        self.fields["destination_account"].choices = [("", "—"), *open_choices]
        self.fields["beneficiary"].choices = [("", "—")] + [
            (beneficiary.pk, f"{beneficiary.name} · {iban_groups(beneficiary.iban)}") for beneficiary in beneficiaries
        ]
        # For the page: each beneficiary's IBAN and name, which the payee check reads (portal.js).
        self.beneficiary_options = [
            (beneficiary.pk, f"{beneficiary.name} · {iban_groups(beneficiary.iban)}",
             beneficiary.iban, beneficiary.name)
            for beneficiary in beneficiaries
        ]
        types = [DESTINATION_TYPES[0]] if len(self.active_accounts) > 1 else []
        if beneficiaries:
            types.append(DESTINATION_TYPES[1])
        types.append(DESTINATION_TYPES[2])
        self.fields["destination_type"].choices = types

    def clean_amount(self) -> int:
        value = self.cleaned_data["amount"].strip()
        # As Flux shows amounts in the page's language ("1 234,50" in French, "1,234.50" in
        # English), or a plain decimal; what reads two ways is refused with its own sentence.
        return clean_typed_amount(
            value, invalid=_("Enter an amount greater than zero, such as 12.50 (at most two decimals).")
        )

    def clean_reference(self) -> str:
        return self.cleaned_data["reference"].strip()

    def clean_beneficiary_name(self) -> str:
        try:
            return validate_beneficiary_name(self.cleaned_data["beneficiary_name"])
        except ApplicationError:
            raise forms.ValidationError(_("Use letters, digits and spaces for the name."), code="invalid") from None

    def _check_payee(self, data: dict) -> None:
        """Verification of payee, for a typed IBAN with a name or a saved beneficiary: the result is
        kept (`payee_check`, recorded with the transfer); a name that does not match the holder's
        needs the payer's confirmation (`payee_confirmed`) before the transfer can be confirmed."""
        data["payee_check"], data["payee_check_name"] = "", None
        name = data.get("beneficiary_name", "")
        if not name or "destination_iban" not in data:
            return
        if not self.payee_check_allowed():
            self.add_error(None, str(ErrorCode.THROTTLED.message))
            return
        try:
            check = payee_check(iban=data["destination_iban"], name=name)
        except ApplicationError:
            return
        data["payee_check"], data["payee_check_name"] = check.result.value, check.name
        if check.result == PayeeCheck.NO_MATCH and not data.get("payee_confirmed"):
            self.add_error("payee_confirmed", _(
                "The name does not match the account holder's. Check the details with the payee, then tick "
                "“I have checked the details” to pay this account anyway."
            ))

    def clean(self) -> dict:
        data = super().clean()
        kind = data.get("destination_type")
        if kind == OWN:
            account = self.accounts.get(data.get("destination_account"))
            if account is None:
                self.add_error("destination_account", _("Choose the account to send the money to."))
            else:
                data["destination_iban"] = account.iban
                data["destination_label"] = f"{account_kind_label(account.kind)} · {iban_groups(account.iban)}"
                data["beneficiary_name"] = ""
        elif kind == BENEFICIARY:
            beneficiary = self.beneficiaries.get(data.get("beneficiary"))
            if beneficiary is None:
                self.add_error("beneficiary", _("Choose a beneficiary."))
            else:
                data["destination_iban"] = beneficiary.iban
                data["destination_label"] = f"{beneficiary.name} · {iban_groups(beneficiary.iban)}"
                data["beneficiary_name"] = beneficiary.name
        elif kind == IBAN:
            try:
                # The same validation the service applies (schwifty): typed IBANs are checked here
                # to say so at step 1; the service checks again at the end.
                iban = str(parse_iban(data.get("iban", "")))
            except ApplicationError:
                self.add_error("iban", _("This is not a valid IBAN: check it for a typo."))
            else:
                data["destination_iban"] = iban
                name = data.get("beneficiary_name", "")
                data["destination_label"] = f"{name} · {iban_groups(iban)}" if name else iban_groups(iban)
        if kind in (BENEFICIARY, IBAN):
            self._check_payee(data)
        else:
            data["payee_check"], data["payee_check_name"] = "", None
        return data

    @property
    def payee_result(self) -> str:
        """The server's payee check of the submitted form ("" before one ran)."""
        return getattr(self, "cleaned_data", {}).get("payee_check", "")

    @property
    def payee_holder(self) -> str:
        """The holder's name, on a close match only."""
        return getattr(self, "cleaned_data", {}).get("payee_check_name") or ""

    @property
    def source_account(self) -> Account | None:
        return self.accounts.get(self.cleaned_data.get("source"))


def _form(request: HttpRequest, data=None, *, initial: dict | None = None) -> TransferForm:
    accounts = list(accounts_visible_to(request.user).exclude(status=AccountStatus.CLOSED).order_by("id"))
    beneficiaries = list(beneficiaries_visible_to(request.user).order_by("name", "id"))
    return TransferForm(data, initial=initial, accounts=accounts, beneficiaries=beneficiaries,
                        payee_check_allowed=lambda: PayeeCheckRateThrottle().allow_request(request, None))


def _render_form(request: HttpRequest, form: TransferForm, *, status: int = 200) -> HttpResponse:
    return render(request, "portal/transfer_form.html", {"form": form}, status=status)


def _fields_of(form: TransferForm) -> dict[str, str]:
    """The raw values of a bound form, to carry through the confirmation step."""
    return {name: form.data.get(name, "") for name in form.fields}


@require_http_methods(["GET", "POST"])
@customer_required
def transfer(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        initial = {"token": uuid.uuid4()}
        if request.GET.get("from", "").isdigit():
            initial["source"] = int(request.GET["from"])
        form = _form(request, initial=initial)
        # The first way offered: between own accounts when there are two, else a typed IBAN.
        form.initial["destination_type"] = form.fields["destination_type"].choices[0][0]
        return _render_form(request, form)

    return _flow(request).post(request)


def _flow(request: HttpRequest) -> FormOnce:
    """The transfer page's steps (core.forms.FormOnce): the form, its confirmation, then
    transfer_create once for the form's token, and the result page."""

    def render_form(form: TransferForm, status: int, error: ApplicationError | None) -> HttpResponse:
        context = {"form": form} | ({"refusal_code": error.code} if error else {})
        return render(request, "portal/transfer_form.html", context, status=status)

    def render_confirm(form: TransferForm) -> HttpResponse:
        # Not enough money is said at step 1, before the customer confirms (banking.policies, the
        # rule the service enforces again when the money moves). Nothing ran: the token stays.
        if not may_spend(form.source_account, form.cleaned_data["amount"]):
            refusal = ApplicationError("insufficient_funds")
            add_refusal(form, refusal, REFUSAL_FIELDS)
            return render_form(form, refusal.status, refusal)
        return render(request, "portal/transfer_confirm.html", {
            "form": form,
            "fields": _fields_of(form),
            "source": form.source_account,
            "amount": format_money(form.cleaned_data["amount"]),
            "destination_label": form.cleaned_data["destination_label"],
            "destination_iban": form.cleaned_data["destination_iban"],
            "reference": form.cleaned_data["reference"],
            "payee_check": form.cleaned_data["payee_check"],
            "payee_check_name": form.cleaned_data["payee_check_name"],
            "needs_approval": transfer_needs_approval(form.cleaned_data["amount"]),
        })

    def operation(data: dict) -> tuple[int, dict]:
        txn = services.transfer_create(
            initiator=request.user,
            source_account_id=data["source"],
            destination_iban=normalize_iban(data["destination_iban"]),
            amount=data["amount"],
            reference=data["reference"],
            beneficiary_name=data["beneficiary_name"],
            payee_check=data["payee_check"],
        )
        return 201, {"transaction": txn.pk, "status": txn.status}

    return FormOnce(
        key_prefix=TOKEN_PREFIX,
        form=lambda data=None, initial=None: _form(request, data, initial=initial),
        render_form=render_form,
        render_confirm=render_confirm,
        fingerprint_parts=lambda data: ("portal.transfer", data["source"], normalize_iban(data["destination_iban"]),
                                        data["amount"], data["reference"], data["beneficiary_name"],
                                        data["payee_check"]),
        operation=operation,
        # Post/redirect/get: reloading the result page reads, it does not send again.
        done=lambda outcome: redirect("portal:transfer-result", pk=outcome.body["transaction"]),
        refusal_fields=REFUSAL_FIELDS,
    )


@require_http_methods(["GET"])
@customer_required
def transfer_result(request: HttpRequest, pk: str) -> HttpResponse:
    txn = transaction_for_user(request.user, pk)
    # The account it was sent from, when it is the customer's (it is for transfers made here).
    source = None
    if txn.source_id:
        try:
            source = account_for_user(request.user, txn.source_id)
        except NotFound:
            source = None
    return render(request, "portal/transfer_result.html", {
        "txn": txn,
        "source": source,
        "destination_iban": txn.external_iban or (txn.destination.iban if txn.destination_id else ""),
    })
