"""The customer's profile: their contact details (email, phone, address) and their password.
Names are kept as the bank recorded them (changing them goes through an agent)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.forms import PasswordChangeForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from core.errors import ApplicationError
from core.forms import add_refusal
from identity import services
from identity.services import ADDRESS_MAX_LENGTH
from portal.views.customer import customer_required


class ContactForm(forms.Form):
    email = forms.CharField(max_length=254, label=gettext_lazy("Email"))
    phone = forms.CharField(max_length=32, required=False, label=gettext_lazy("Phone (optional)"))
    address = forms.CharField(max_length=ADDRESS_MAX_LENGTH, required=False, widget=forms.Textarea,
                              label=gettext_lazy("Address (optional)"))


def render_profile(request: HttpRequest, *, contact_form=None, password_form=None, status: int = 200):
    user = request.user
    contact_form = contact_form or ContactForm(
        initial={"email": user.email, "phone": user.phone, "address": user.address}
    )
    password_form = password_form or PasswordChangeForm(user)
    return render(request, "portal/profile.html", {"contact_form": contact_form, "password_form": password_form},
                  status=status)


@require_http_methods(["GET", "POST"])
@customer_required
def profile(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return render_profile(request)
    form = ContactForm(request.POST)
    if form.is_valid():
        try:
            services.customer_update_contact(customer=request.user, **form.cleaned_data)
        except ApplicationError as error:
            add_refusal(form, error)
        else:
            messages.success(request, _("Your contact details are saved."))
            return redirect("portal:profile")
    return render_profile(request, contact_form=form, status=400)


@require_http_methods(["POST"])
@customer_required
def password_change(request: HttpRequest) -> HttpResponse:
    form = PasswordChangeForm(request.user, request.POST)
    if form.is_valid():
        services.password_change(request=request, user=request.user, new_password=form.cleaned_data["new_password1"])
        messages.success(request, _("Your password is changed. You are still signed in here."))
        return redirect("portal:profile")
    return render_profile(request, password_form=form, status=400)
