"""Agent management (/agent/staff/, supervisors): the staff list, creating an agent (the generated
password shown once), deactivating and reactivating, resetting two-factor sign-in, unlocking a
lockout. The rules and the audit are in identity/staff_services.py."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from core.errors import ApplicationError
from identity import staff_services
from identity.decorators import staff_required
from identity.models import STAFF_ROLES, User
from identity.selectors import staff_list

# The generated password waits here between the POST and the page that shows it, once.
CREATED_SESSION_KEY = "workspace.staff_created"


class AgentForm(forms.Form):
    username = forms.CharField(label=gettext_lazy("Username"), max_length=150)
    first_name = forms.CharField(label=gettext_lazy("First name"), max_length=150)
    last_name = forms.CharField(label=gettext_lazy("Last name"), max_length=150)
    email = forms.EmailField(label=gettext_lazy("Email"), max_length=254)


ACTIONS = {
    "deactivate": (staff_services.staff_deactivate, gettext_lazy("%(name)s can no longer sign in.")),
    "reactivate": (staff_services.staff_reactivate, gettext_lazy("%(name)s can sign in again.")),
    "reset-2fa": (staff_services.staff_2fa_reset,
                  gettext_lazy("%(name)s will set up two-factor sign-in again at their next sign-in.")),
    "unlock": (staff_services.staff_unlock, gettext_lazy("%(name)s is unlocked and can try again.")),
}


def _render(request: HttpRequest, form: AgentForm, *, status: int = 200) -> HttpResponse:
    created = request.session.pop(CREATED_SESSION_KEY, None)
    return render(request, "workspace/staff.html", {
        "form": form,
        "staff": staff_list(),
        "created": created,
    }, status=status)


@never_cache  # the page may carry a password shown once
@require_http_methods(["GET", "POST"])
@staff_required(supervisor=True)
def staff_page(request: HttpRequest) -> HttpResponse:
    form = AgentForm(request.POST or None)
    if request.method == "POST":
        if form.is_valid():
            try:
                agent, password = staff_services.agent_create(actor=request.user, **form.cleaned_data)
            except ApplicationError as error:
                for field, field_messages in error.fields.items():
                    for message in field_messages:
                        form.add_error(field if field in form.fields else None, message)
                if not error.fields:
                    form.add_error(None, error.message)
            else:
                request.session[CREATED_SESSION_KEY] = {
                    "username": agent.username, "name": agent.get_full_name(), "password": password,
                }
                return redirect("workspace:staff")
        return _render(request, form, status=400)
    return _render(request, AgentForm())


@require_POST
@staff_required(supervisor=True)
def staff_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """One of ACTIONS on one member of staff, then back to the list with what happened."""
    if action not in ACTIONS:
        raise Http404
    member = get_object_or_404(User, pk=pk, role__in=STAFF_ROLES)
    service, done = ACTIONS[action]
    try:
        service(actor=request.user, user=member)
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, done % {"name": member.get_full_name() or member.username})
    return redirect("workspace:staff")

