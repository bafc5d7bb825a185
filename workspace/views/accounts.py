"""An account at the desk: balance, status, recent entries, and the actions on it, each with a
required reason: freeze, unfreeze, close (zero balance only), and the overdraft limit (supervisors)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from banking import services
from banking.access import account_for_user
from banking.models import Account
from banking.policies import may_set_overdraft
from banking.selectors import entry_list_for_account, pending_transactions_of_account, with_reversal
from core.errors import ApplicationError
from core.money import format_minor
from identity.decorators import staff_required
from workspace.views.common import AmountField, ReasonForm, add_refusal

RECENT_ENTRIES = 30


class OverdraftForm(ReasonForm):
    overdraft_limit = AmountField(allow_zero=True, label=gettext_lazy("New overdraft limit"))

    field_order = ["overdraft_limit", "reason"]


# Each action: its service, the form it takes and what the page says when it is done.
ACTIONS = {
    "freeze": (services.account_freeze, gettext_lazy("The account is frozen.")),
    "unfreeze": (services.account_unfreeze, gettext_lazy("The account is active again.")),
    "close": (services.account_close, gettext_lazy("The account is closed.")),
    "overdraft": (services.account_set_overdraft_limit, gettext_lazy("The overdraft limit is changed.")),
}


def staff_account_or_404(user, pk: str) -> Account:
    account = account_for_user(user, pk)
    if account.is_internal:
        raise Http404
    return account


def render_account(request: HttpRequest, account: Account, *, forms_by_action: dict | None = None,
                   status: int = 200) -> HttpResponse:
    forms_by_action = forms_by_action or {}
    entries = list(with_reversal(entry_list_for_account(account=account), prefix="transaction__")[:RECENT_ENTRIES])
    pending = pending_transactions_of_account(account=account)
    return render(request, "workspace/account.html", {
        "account": account,
        "customer": account.customer,
        "entries": entries,
        "pending": pending,
        "status_form": forms_by_action.get("status") or ReasonForm(),
        "status_action": forms_by_action.get("status_action", ""),
        "overdraft_form": forms_by_action.get("overdraft")
        or OverdraftForm(initial={"overdraft_limit": format_minor(account.overdraft_limit)}),
        "offer_overdraft": may_set_overdraft(request.user),
    }, status=status)


@require_GET
@staff_required
def account_detail(request: HttpRequest, pk: str) -> HttpResponse:
    return render_account(request, staff_account_or_404(request.user, pk))


@require_POST
@staff_required
def account_action(request: HttpRequest, pk: str, action: str) -> HttpResponse:
    account = staff_account_or_404(request.user, pk)
    if action not in ACTIONS:
        raise Http404
    service, done = ACTIONS[action]
    form: forms.Form = OverdraftForm(request.POST) if action == "overdraft" else ReasonForm(request.POST)
    status = 400
    if form.is_valid():
        arguments = {"actor": request.user, "account_id": account.pk, "reason": form.cleaned_data["reason"]}
        if action == "overdraft":
            arguments["overdraft_limit"] = form.cleaned_data["overdraft_limit"]
        try:
            service(**arguments)
        except ApplicationError as error:
            add_refusal(form, error)
            status = error.status
        else:
            messages.success(request, str(done))
            return redirect("workspace:account", pk=account.pk)
    forms_by_action = {"overdraft": form} if action == "overdraft" else {"status": form, "status_action": action}
    account.refresh_from_db()
    return render_account(request, account, forms_by_action=forms_by_action, status=status)



