"""Suspense on the desk (supervisors): the items (open by default, with their status: open, waiting
for approval, resolved), and for an open one, assign it to a customer account found by its IBAN or
send it back to the payer, each through a confirmation step and once per form token
(core.forms.FormOnce), as the counter's cash is. The rules are banking.clearing.suspense's; at or
above the approval threshold the confirmation says that another member of staff approves it."""

from __future__ import annotations

import uuid

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from banking.clearing.suspense import (
    OPEN,
    STATUSES,
    customer_account_by_iban,
    payer_iban_for_send_back,
    send_back_reference,
    suspense_assign,
    suspense_item,
    suspense_items,
    suspense_send_back,
)
from banking.policies import transfer_needs_approval
from core.errors import ApplicationError, ErrorCode
from core.forms import FormOnce
from identity.decorators import staff_required
from workspace.views.common import REFUSAL_FIELDS

PER_PAGE = 50
ASSIGN_PREFIX = "workspace-suspense-assign:"
SEND_BACK_PREFIX = "workspace-suspense-send-back:"
# The suspense pages' own refusals, said in a person's words on top of the form.
SUSPENSE_REFUSALS = {**REFUSAL_FIELDS, ErrorCode.NOT_OPEN: None, ErrorCode.CURRENCY_MISMATCH: "iban"}


class AssignForm(forms.Form):
    token = forms.UUIDField(widget=forms.HiddenInput)
    iban = forms.CharField(max_length=42, label=gettext_lazy("IBAN of the customer account"))

    def clean_iban(self) -> str:
        try:
            self.account = customer_account_by_iban(self.cleaned_data["iban"])
        except ApplicationError as error:
            raise forms.ValidationError(str(error.code.message)) from None
        return self.account.iban


class SendBackForm(forms.Form):
    token = forms.UUIDField(widget=forms.HiddenInput)
    reason = forms.CharField(max_length=500, required=False, label=gettext_lazy("Reason (optional)"))

    def clean_reason(self) -> str:
        return self.cleaned_data["reason"].strip()


@require_GET
@staff_required(supervisor=True)
def suspense_list(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status") if request.GET.get("status") in (*STATUSES, "all") else OPEN
    page = Paginator(suspense_items(status=status), PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "workspace/clearing/suspense.html", {
        "page": page, "items": page.object_list, "status": status, "statuses": [*STATUSES, "all"],
    })


def _render(request: HttpRequest, item, *, action: str, form: forms.Form, confirm: bool = False,
            status: int = 200, **extra) -> HttpResponse:
    context = {"item": item, "action": action, "form": form, "confirm": confirm, "is_open": item.status == OPEN,
               "needs_approval": transfer_needs_approval(item.amount), **extra}
    if confirm:
        context["fields"] = {name: form.data.get(name, "") for name in form.fields}
    return render(request, "workspace/clearing/suspense_resolve.html", context, status=status)


def _done(request: HttpRequest, outcome) -> HttpResponse:
    if outcome.body["status"] == "pending":
        messages.success(request, _("Transaction #%(id)s waits for another member of staff to approve it.")
                         % {"id": outcome.body["transaction"]})
    else:
        messages.success(request, _("Transaction #%(id)s is posted.") % {"id": outcome.body["transaction"]})
    return redirect("workspace:suspense")


@require_http_methods(["GET", "POST"])
@staff_required(supervisor=True)
def suspense_assign_page(request: HttpRequest, pk: str) -> HttpResponse:
    item = suspense_item(pk)
    if request.method == "GET":
        return _render(request, item, action="assign", form=AssignForm(initial={"token": uuid.uuid4()}))

    def operation(data: dict) -> tuple[int, dict]:
        txn = suspense_assign(initiator=request.user, item_id=item.pk, account_id=form_account(data))
        return 201, {"transaction": txn.pk, "status": txn.status}

    def form_account(data: dict) -> int:
        return customer_account_by_iban(data["iban"]).pk

    def render_confirm(form: AssignForm) -> HttpResponse:
        return _render(request, item, action="assign", form=form, confirm=True, account=form.account)

    return FormOnce(
        key_prefix=ASSIGN_PREFIX,
        form=lambda data=None, initial=None: AssignForm(data, initial=initial),
        render_form=lambda form, status, error: _render(request, suspense_item(pk), action="assign", form=form,
                                                        status=status),
        render_confirm=render_confirm,
        fingerprint_parts=lambda data: ("workspace.suspense.assign", item.pk, data["iban"]),
        operation=operation,
        done=lambda outcome: _done(request, outcome),
        refusal_fields=SUSPENSE_REFUSALS,
    ).post(request)


@require_http_methods(["GET", "POST"])
@staff_required(supervisor=True)
def suspense_send_back_page(request: HttpRequest, pk: str) -> HttpResponse:
    item = suspense_item(pk)
    try:
        payer_iban, iban_error = payer_iban_for_send_back(item), ""
    except ApplicationError as error:
        payer_iban, iban_error = "", error.message
    extra = {"payer_iban": payer_iban, "iban_error": iban_error,
             "reference": send_back_reference(item.entry.remittance)}
    if request.method == "GET":
        return _render(request, item, action="send_back", form=SendBackForm(initial={"token": uuid.uuid4()}), **extra)

    def operation(data: dict) -> tuple[int, dict]:
        txn = suspense_send_back(initiator=request.user, item_id=item.pk, reason=data["reason"])
        return 201, {"transaction": txn.pk, "status": txn.status}

    return FormOnce(
        key_prefix=SEND_BACK_PREFIX,
        form=lambda data=None, initial=None: SendBackForm(data, initial=initial),
        render_form=lambda form, status, error: _render(request, suspense_item(pk), action="send_back", form=form,
                                                        status=status, **extra),
        render_confirm=lambda form: _render(request, item, action="send_back", form=form, confirm=True, **extra),
        fingerprint_parts=lambda data: ("workspace.suspense.send_back", item.pk, data["reason"]),
        operation=operation,
        done=lambda outcome: _done(request, outcome),
        refusal_fields=SUSPENSE_REFUSALS,
    ).post(request)
