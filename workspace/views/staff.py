"""Agent management (/agent/staff/, supervisors): the staff list, creating an agent (who chooses their
own password through a link sent by mail: the page never shows one), mailing that link again,
deactivating and reactivating, resetting two-factor sign-in, unlocking a lockout. The rules and
the audit are in identity/staff_services.py and identity/password_links.py."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from core.errors import ApplicationError
from core.forms import add_refusal
from identity import password_links, staff_services
from identity.decorators import staff_required
from identity.models import User
from identity.selectors import staff_list, staff_member_get


class AgentForm(forms.Form):
    username = forms.CharField(label=gettext_lazy("Username"), max_length=150)
    first_name = forms.CharField(label=gettext_lazy("First name"), max_length=150)
    last_name = forms.CharField(label=gettext_lazy("Last name"), max_length=150)
    email = forms.EmailField(label=gettext_lazy("Email"), max_length=254)


def _as_supervisor(service):
    """A staff service, called as the signed-in supervisor on one member."""
    return lambda request, member: service(actor=request.user, user=member)


def _resend_password_link(request: HttpRequest, member: User) -> None:
    password_links.password_link_resend(actor=request.user, user=member,
                                        base_url=password_links.public_base_url(request))


# Each action: what it does (given the request and the member) and what the page says once done.
ACTIONS = {
    "deactivate": (_as_supervisor(staff_services.staff_deactivate), gettext_lazy("%(name)s can no longer sign in.")),
    "reactivate": (_as_supervisor(staff_services.staff_reactivate), gettext_lazy("%(name)s can sign in again.")),
    "reset-2fa": (_as_supervisor(staff_services.staff_2fa_reset),
                  gettext_lazy("%(name)s will set up two-factor sign-in again at their next sign-in.")),
    "unlock": (_as_supervisor(staff_services.staff_unlock), gettext_lazy("%(name)s is unlocked and can try again.")),
    "resend-password-link": (_resend_password_link,
                             gettext_lazy("A new link to choose a password is on its way to %(email)s; "
                                          "the previous one no longer works.")),
}


def _render(request: HttpRequest, form: AgentForm, *, status: int = 200) -> HttpResponse:
    return render(request, "workspace/staff.html", {"form": form, "staff": staff_list()}, status=status)


@never_cache
@require_http_methods(["GET", "POST"])
@staff_required(supervisor=True)
def staff_page(request: HttpRequest) -> HttpResponse:
    form = AgentForm(request.POST or None)
    if request.method == "POST":
        if form.is_valid():
            try:
                agent = staff_services.agent_create(
                    actor=request.user, base_url=password_links.public_base_url(request), **form.cleaned_data
                )
            except ApplicationError as error:
                add_refusal(form, error)
            else:
                messages.success(request, _("%(name)s (%(username)s) is an agent. A link to choose their password "
                                            "is on its way to %(email)s: only they will know it.")
                                 % {"name": agent.get_full_name(), "username": agent.username, "email": agent.email})
                return redirect("workspace:staff")
        return _render(request, form, status=400)
    return _render(request, AgentForm())


@require_POST
@staff_required(supervisor=True)
def staff_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """One of ACTIONS on one member of staff, then back to the list with what happened."""
    if action not in ACTIONS:
        raise Http404
    member = staff_member_get(member_id=pk)
    service, done = ACTIONS[action]
    try:
        service(request, member)
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, done % {"name": member.get_full_name() or member.username, "email": member.email})
    return redirect("workspace:staff")

