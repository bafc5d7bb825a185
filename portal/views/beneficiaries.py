"""Beneficiaries: the list (with its empty state) and the add form on one page, then rename and
delete (after a confirmation), each its own small page so it works by keyboard and without
JavaScript. The IBAN is checked as it is typed (static/js/beneficiaries.js, mod-97) and again,
with schwifty, by the service."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from banking import services
from banking.access import beneficiaries_visible_to, beneficiary_for_user
from banking.models import Beneficiary
from core.errors import ApplicationError, ErrorCode, NotFound
from core.forms import add_refusal
from portal.views.customer import customer_required

NAME_MAX_LENGTH = Beneficiary._meta.get_field("name").max_length

# The service's refusals said in a person's words (each code's sentence, core.errors.ErrorCode),
# next to the field they concern.
REFUSAL_FIELDS: dict[ErrorCode, str | None] = {
    ErrorCode.INVALID_IBAN: "iban",
    ErrorCode.UNKNOWN_ACCOUNT: "iban",
}


class BeneficiaryForm(forms.Form):
    name = forms.CharField(max_length=NAME_MAX_LENGTH, label=gettext_lazy("Name"), strip=True)
    iban = forms.CharField(max_length=64, label=gettext_lazy("IBAN"), strip=True)


class RenameForm(forms.Form):
    name = forms.CharField(max_length=NAME_MAX_LENGTH, label=gettext_lazy("New name"), strip=True)


def own_beneficiary(user, pk: str) -> Beneficiary:
    """The customer's beneficiary, or the 404 page (another customer's is not found either)."""
    return beneficiary_for_user(user, pk)


@require_http_methods(["GET", "POST"])
@customer_required
def beneficiary_list(request: HttpRequest) -> HttpResponse:
    form = BeneficiaryForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            beneficiary = services.beneficiary_create(
                customer=request.user, name=form.cleaned_data["name"], iban=form.cleaned_data["iban"]
            )
        except ApplicationError as error:
            add_refusal(form, error, REFUSAL_FIELDS)
        else:
            messages.success(request, _("%(name)s is saved as a beneficiary.") % {"name": beneficiary.name})
            return redirect("portal:beneficiaries")
    beneficiaries = list(beneficiaries_visible_to(request.user).order_by("name", "id"))
    status = 400 if form.is_bound and form.errors else 200
    return render(request, "portal/beneficiaries.html", {"form": form, "beneficiaries": beneficiaries},
                  status=status)


@require_http_methods(["GET", "POST"])
@customer_required
def beneficiary_rename(request: HttpRequest, pk: str) -> HttpResponse:
    beneficiary = own_beneficiary(request.user, pk)
    form = RenameForm(request.POST or None, initial={"name": beneficiary.name})
    if request.method == "POST" and form.is_valid():
        try:
            beneficiary = services.beneficiary_rename(
                customer=request.user, beneficiary_id=beneficiary.pk, name=form.cleaned_data["name"]
            )
        except ApplicationError as error:
            add_refusal(form, error, REFUSAL_FIELDS)
        else:
            messages.success(request, _("The beneficiary is now called %(name)s.") % {"name": beneficiary.name})
            return redirect("portal:beneficiaries")
    status = 400 if form.is_bound and form.errors else 200
    return render(request, "portal/beneficiary_rename.html", {"form": form, "beneficiary": beneficiary},
                  status=status)


@require_http_methods(["GET", "POST"])
@customer_required
def beneficiary_delete(request: HttpRequest, pk: str) -> HttpResponse:
    beneficiary = own_beneficiary(request.user, pk)
    if request.method == "POST":
        try:
            services.beneficiary_delete(customer=request.user, beneficiary_id=beneficiary.pk)
        except NotFound:  # deleted meanwhile (another tab): what was asked is done
            pass
        messages.success(request, _("%(name)s is no longer a beneficiary.") % {"name": beneficiary.name})
        return redirect("portal:beneficiaries")
    return render(request, "portal/beneficiary_delete.html", {"beneficiary": beneficiary})
