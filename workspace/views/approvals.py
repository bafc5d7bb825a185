"""The approval queue (/agent/approvals/): pending transfers, cash operations and reversals (each
with a link to the transaction it reverses), oldest first;
approve, or reject with a reason. The rules (never one's own, the agent approval limit) are
transaction_approve's and transaction_reject's: the page hides the buttons it knows would be
refused and shows the service's refusal when one comes anyway."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from banking import services
from banking.policies import agent_approval_limit, approval_limit
from banking.selectors import pending_approvals
from core.errors import ApplicationError
from core.ids import parse_id
from core.templatetags.money import format_money
from identity.decorators import staff_required
from workspace.views.common import ReasonForm, refusal_message

QUEUE_LIMIT = 200


def render_queue(request: HttpRequest, *, error: str = "", error_for: int | None = None,
                 reject_form: ReasonForm | None = None, status: int = 200) -> HttpResponse:
    user = request.user
    limit = approval_limit(user)
    rows = list(
        pending_approvals().select_related("initiated_by", "source__customer", "destination__customer",
                                           "reverses")[:QUEUE_LIMIT]
    )
    now = timezone.now()
    for txn in rows:
        txn.is_own = txn.initiated_by_id == user.pk
        txn.above_limit = limit is not None and txn.amount > limit
        txn.age = now - txn.created_at
    return render(request, "workspace/approvals.html", {
        "rows": rows,
        "limit": limit,
        "error": error,
        "error_for": error_for,
        "reject_form": reject_form,
    }, status=status)


@require_GET
@staff_required
def approval_list(request: HttpRequest) -> HttpResponse:
    return render_queue(request)


@require_POST
@staff_required
def approve(request: HttpRequest, pk: str) -> HttpResponse:
    try:
        txn = services.transaction_approve(approver=request.user, transaction_id=parse_id(pk))
    except ApplicationError as error:
        return render_queue(request, error=approval_refusal(error), error_for=_int_or_none(pk), status=error.status)
    messages.success(request, _("Transaction #%(id)s is approved and posted.") % {"id": txn.pk})
    return redirect("workspace:approvals")


@require_POST
@staff_required
def reject(request: HttpRequest, pk: str) -> HttpResponse:
    form = ReasonForm(request.POST)
    if not form.is_valid():
        return render_queue(request, error=_("Give a reason to reject."), error_for=_int_or_none(pk),
                            reject_form=form, status=400)
    try:
        txn = services.transaction_reject(approver=request.user, transaction_id=parse_id(pk),
                                          reason=form.cleaned_data["reason"])
    except ApplicationError as error:
        return render_queue(request, error=approval_refusal(error), error_for=_int_or_none(pk), status=error.status)
    messages.success(request, _("Transaction #%(id)s is rejected.") % {"id": txn.pk})
    return redirect("workspace:approvals")


def approval_refusal(error: ApplicationError) -> str:
    if error.code == "permission_denied":
        return _("You started this operation: another member of staff decides it.")
    if error.code == "approval_limit_exceeded":
        return _("This amount is above your approval limit of %(limit)s: a supervisor decides it.") % {
            "limit": format_money(agent_approval_limit())
        }
    return refusal_message(error)


def _int_or_none(value: str) -> int | None:
    return int(value) if value.isdigit() else None
