"""One transaction at the desk, and a request to reverse it (with a reason). The reversal waits for
another member of staff in the approval queue; while it waits, or once posted, the page shows it
instead of the form (banking.policies.reversal_refusal, the service's own rule)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from banking import services
from banking.models import Transaction
from banking.policies import reversal_refusal
from banking.selectors import entries_of_transaction, standing_reversal_of, transaction_for_staff_page
from core.errors import ApplicationError
from identity.decorators import staff_required
from workspace.views.common import ReasonForm, add_refusal


def transaction_or_404(user, pk: str) -> Transaction:
    return transaction_for_staff_page(user=user, transaction_id=pk)


def render_transaction(request: HttpRequest, txn: Transaction, *, form: ReasonForm | None = None,
                       status: int = 200) -> HttpResponse:
    reversal = standing_reversal_of(txn)
    return render(request, "workspace/transaction.html", {
        "txn": txn,
        "reversal": reversal,
        "reversible": reversal_refusal(txn, standing_reversal=reversal) is None,
        "form": form or ReasonForm(),
        "entries": entries_of_transaction(txn),
    }, status=status)


@require_GET
@staff_required
def transaction_detail(request: HttpRequest, pk: str) -> HttpResponse:
    return render_transaction(request, transaction_or_404(request.user, pk))


@require_POST
@staff_required
def transaction_reverse(request: HttpRequest, pk: str) -> HttpResponse:
    txn = transaction_or_404(request.user, pk)
    form = ReasonForm(request.POST)
    status = 400
    if form.is_valid():
        try:
            reversal = services.transaction_reverse(actor=request.user, transaction_id=txn.pk,
                                                    reason=form.cleaned_data["reason"])
        except ApplicationError as error:
            add_refusal(form, error)
            status = error.status
        else:
            messages.success(request, _("Reversal #%(reversal)s of transaction #%(id)s waits for another member "
                                        "of staff to approve it.") % {"id": txn.pk, "reversal": reversal.pk})
            return redirect("workspace:transaction", pk=txn.pk)
    return render_transaction(request, txn, form=form, status=status)
