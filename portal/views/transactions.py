"""A transaction seen by the customer: its page (parties, amount, status history, reference, the
reversal or original linked), its PDF receipt, and cancelling a transfer that waits for approval
(a confirmation page, then transaction_cancel once for the page's one-time token, FormOnce)."""

from __future__ import annotations

import uuid

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from banking import selectors, services
from banking.access import accounts_visible_to, transaction_for_user, transactions_visible_to
from banking.models import Transaction, TransactionStatus
from banking.receipts import payee, payer, receipt_response
from core.errors import ApplicationError, ErrorCode
from core.forms import FormOnce, refusal_message
from core.idempotency import Outcome
from portal.views.customer import customer_required

CANCEL_TOKEN_PREFIX = "portal-cancel:"
# The refusals a cancel can meet, said with their code's (translated) sentence.
CANCEL_REFUSALS = {ErrorCode.NOT_PENDING: None, ErrorCode.PERMISSION_DENIED: None, ErrorCode.NOT_FOUND: None}


class CancelForm(forms.Form):
    token = forms.UUIDField(widget=forms.HiddenInput)


def destination_iban(txn: Transaction) -> str:
    return txn.external_iban or (txn.destination.iban if txn.destination_id else "")


def cancellable_by(txn: Transaction, user) -> bool:
    return txn.status == TransactionStatus.PENDING and txn.initiated_by_id == user.pk


@require_http_methods(["GET", "POST"])
@customer_required
def transaction_cancel(request: HttpRequest, pk: str) -> HttpResponse:
    """GET: "Cancel this transfer?" with its amount, payee and reference; POST: cancel it once
    (a second click or a reload replays the first answer), then back to its account."""
    txn = transaction_for_user(request.user, pk)

    def page(form: forms.Form, status: int = 200, error: ApplicationError | None = None) -> HttpResponse:
        current = transaction_for_user(request.user, txn.pk)
        return render(request, "portal/transaction_cancel.html", {
            "txn": current,
            "form": form,
            "destination_iban": destination_iban(current),
            "cancellable": cancellable_by(current, request.user),
            "refusal": refusal_message(error, CANCEL_REFUSALS) if error else "",
        }, status=status)

    if request.method == "GET":
        return page(CancelForm(initial={"token": uuid.uuid4()}))

    def operation(data: dict) -> tuple[int, dict]:
        cancelled = services.transaction_cancel(actor=request.user, transaction_id=txn.pk)
        return 200, {"transaction": cancelled.pk, "source": cancelled.source_id}

    def done(outcome: Outcome) -> HttpResponse:
        messages.success(request, _("The transfer is cancelled: the amount is available again."))
        return redirect("portal:account", pk=outcome.body["source"])

    return FormOnce(
        key_prefix=CANCEL_TOKEN_PREFIX,
        form=lambda data=None, initial=None: CancelForm(data, initial=initial),
        render_form=lambda form, status, error: page(form, status, error),
        render_confirm=lambda form: page(form),
        fingerprint_parts=lambda data: ("portal.cancel", txn.pk),
        operation=operation,
        done=done,
    ).post(request)


@require_GET
@customer_required
def transaction_detail(request: HttpRequest, pk: str) -> HttpResponse:
    """One transaction the customer is a party to: who paid whom, the amount, its status history,
    the reference in full, its reversal or original (linked when the customer may see it)."""
    txn = transaction_for_user(request.user, pk)
    own_accounts = set(accounts_visible_to(request.user).values_list("pk", flat=True))
    reversal = selectors.standing_reversal_of(txn)
    visible = transactions_visible_to(request.user)
    original = txn.reverses if txn.reverses_id and visible.filter(pk=txn.reverses_id).exists() else None
    # Money with other banks: a RETURN and the transfer it credits back, each linked to the other.
    returned_original = visible.filter(pk=txn.return_of_id).first() if txn.return_of_id else None
    return_txn = visible.filter(return_of=txn).first() if txn.status == TransactionStatus.RETURNED else None
    response = render(request, "portal/transaction.html", {
        "txn": txn,
        "payer": payer(txn),
        "payee": payee(txn),
        "outgoing": txn.source_id in own_accounts,
        "own_account_id": txn.source_id if txn.source_id in own_accounts else txn.destination_id,
        "timeline": selectors.transaction_timeline(txn),
        "reversal": reversal if reversal and visible.filter(pk=reversal.pk).exists() else None,
        "original": original,
        "returned_original": returned_original,
        "return_txn": return_txn,
        "cancellable": cancellable_by(txn, request.user),
    })
    response["Cache-Control"] = "no-store"
    return response


@require_GET
@customer_required
def transaction_receipt(request: HttpRequest, pk: str) -> HttpResponse:
    """The transaction's PDF receipt (the same as GET /api/v1/transactions/{id}/receipt/)."""
    return receipt_response(transaction_for_user(request.user, pk))
