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
from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from banking import services
from banking.access import transaction_for_user
from banking.models import TransactionKind
from core.errors import ApplicationError
from core.idempotency import fingerprint, run_once
from core.money import decimal_to_minor
from identity.decorators import staff_required
from workspace.views.accounts import staff_account_or_404
from workspace.views.common import AmountField, add_refusal

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
    step = request.POST.get("step")
    if step == "edit":
        return _render_form(request, account, CashForm(initial=request.POST.dict()))
    form = CashForm(request.POST)
    if not form.is_valid():
        return _render_form(request, account, form, status=400)
    data = form.cleaned_data
    if step != "confirm":
        return render(request, "workspace/cash_confirm.html", {
            "account": account,
            "form": form,
            "fields": {name: form.data.get(name, "") for name in form.fields},
            "kind": data["kind"],
            "amount": data["amount"],
            "reference": data["reference"],
            "needs_approval": data["amount"] >= decimal_to_minor(settings.FLUX_CASH_APPROVAL_THRESHOLD),
        })

    def operation() -> tuple[int, dict]:
        txn = SERVICES[data["kind"]](initiator=request.user, account_id=account.pk, amount=data["amount"],
                                     reference=data["reference"])
        return 201, {"transaction": txn.pk, "status": txn.status}

    try:
        outcome = run_once(
            user=request.user,
            key=f"{TOKEN_PREFIX}{data['token'].hex}",
            fingerprint=fingerprint("workspace.cash", data["kind"], account.pk, data["amount"], data["reference"]),
            operation=operation,
        )
    except ApplicationError as error:
        retry = request.POST.copy()
        # The old token holds this refusal (or another operation): what is sent from here is new.
        retry["token"] = str(uuid.uuid4())
        form = CashForm(retry)
        form.is_valid()
        add_refusal(form, error)
        return _render_form(request, account, form, status=error.status)
    # Post/redirect/get: a reload of the receipt reads it, it does not pay again.
    return redirect("workspace:receipt", pk=outcome.body["transaction"])


@require_GET
@staff_required
def receipt(request: HttpRequest, pk: str) -> HttpResponse:
    try:
        txn = transaction_for_user(request.user, pk)
    except ApplicationError:
        raise Http404 from None
    if txn.kind not in SERVICES:
        raise Http404
    account = txn.destination if txn.kind == DEPOSIT else txn.source
    entry = txn.entries.filter(account=account).first()  # none while pending
    return render(request, "workspace/receipt.html", {
        "txn": txn, "account": account, "customer": account.customer,
        "balance_after": entry.balance_after if entry else None,
    })
