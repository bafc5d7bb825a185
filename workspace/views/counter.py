"""Cash at the counter: deposit or withdrawal on an account, a confirmation step, then a printable
receipt.

Like the customer's transfer form (portal/views/transfers.py), a token is minted when the form
first renders and travels through the confirmation; the final submit uses it as the key of
core/idempotency.py's run_once, so a double click or a reload moves the cash once. A refusal is
kept under the token too: the same confirmation sent again shows the same refusal instead of
moving the cash later; the form shown with the refusal carries a new token, for a new attempt.
"""

from __future__ import annotations

import uuid

from django import forms
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from banking import services
from banking.access import transaction_for_user
from banking.models import TransactionKind
from banking.policies import cash_needs_approval
from core.forms import FormOnce
from identity.decorators import staff_required
from workspace.views.accounts import staff_account_or_404
from workspace.views.common import REFUSAL_FIELDS, AmountField

TOKEN_PREFIX = "workspace-cash:"
DEPOSIT, WITHDRAWAL = TransactionKind.DEPOSIT.value, TransactionKind.WITHDRAWAL.value
SERVICES = {DEPOSIT: services.deposit_create, WITHDRAWAL: services.withdrawal_create}


class CashForm(forms.Form):
    token = forms.UUIDField(widget=forms.HiddenInput)
    kind = forms.ChoiceField(
        choices=[(DEPOSIT, gettext_lazy("Deposit (cash in)")), (WITHDRAWAL, gettext_lazy("Withdrawal (cash out)"))],
        widget=forms.RadioSelect, label=gettext_lazy("Operation"),
    )
    amount = AmountField(label=gettext_lazy("Amount"))
    reference = forms.CharField(max_length=140, required=False, label=gettext_lazy("Reference (optional)"))

    def clean_reference(self) -> str:
        return self.cleaned_data["reference"].strip()


def _render_form(request: HttpRequest, account, form: CashForm, *, status: int = 200) -> HttpResponse:
    return render(request, "workspace/cash_form.html", {"account": account, "form": form}, status=status)


@require_http_methods(["GET", "POST"])
@staff_required
def cash(request: HttpRequest, pk: str) -> HttpResponse:
    account = staff_account_or_404(request.user, pk)
    if request.method == "GET":
        kind = request.GET.get("kind") if request.GET.get("kind") in SERVICES else DEPOSIT
        return _render_form(request, account, CashForm(initial={"token": uuid.uuid4(), "kind": kind}))
    return _flow(request, account).post(request)


def _flow(request: HttpRequest, account) -> FormOnce:
    """The counter's steps (core.forms.FormOnce): the form, its confirmation, then the deposit or
    withdrawal once for the form's token, and the receipt."""

    def render_confirm(form: CashForm) -> HttpResponse:
        data = form.cleaned_data
        return render(request, "workspace/cash_confirm.html", {
            "account": account,
            "form": form,
            "fields": {name: form.data.get(name, "") for name in form.fields},
            "kind": data["kind"],
            "amount": data["amount"],
            "reference": data["reference"],
            "needs_approval": cash_needs_approval(data["amount"]),
        })

    def operation(data: dict) -> tuple[int, dict]:
        txn = SERVICES[data["kind"]](initiator=request.user, account_id=account.pk, amount=data["amount"],
                                     reference=data["reference"])
        return 201, {"transaction": txn.pk, "status": txn.status}

    return FormOnce(
        key_prefix=TOKEN_PREFIX,
        form=lambda data=None, initial=None: CashForm(data, initial=initial),
        render_form=lambda form, status, error: _render_form(request, account, form, status=status),
        render_confirm=render_confirm,
        fingerprint_parts=lambda data: ("workspace.cash", data["kind"], account.pk, data["amount"], data["reference"]),
        operation=operation,
        # Post/redirect/get: a reload of the receipt reads it, it does not pay again.
        done=lambda outcome: redirect("workspace:receipt", pk=outcome.body["transaction"]),
        refusal_fields=REFUSAL_FIELDS,
    )


@require_GET
@staff_required
def receipt(request: HttpRequest, pk: str) -> HttpResponse:
    txn = transaction_for_user(request.user, pk)
    if txn.kind not in SERVICES:
        raise Http404
    account = txn.destination if txn.kind == DEPOSIT else txn.source
    entry = txn.entries.filter(account=account).first()  # none while pending
    return render(request, "workspace/receipt.html", {
        "txn": txn, "account": account, "customer": account.customer,
        "balance_after": entry.balance_after if entry else None,
    })
