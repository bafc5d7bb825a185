"""A customer at the desk: their page (profile, accounts, recent transactions, audit events),
their contact details, onboarding (a customer and a first account in one form) and another account."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from audit.presentation import event_details
from banking import services
from banking.models import CUSTOMER_KINDS
from banking.policies import may_set_overdraft
from banking.selectors import customer_event_page, recent_transactions_of_customer
from core.errors import ApplicationError
from identity import lockout, password_links
from identity.decorators import staff_required
from identity.models import User
from identity.selectors import customer_get
from identity.services import ADDRESS_MAX_LENGTH, customer_update_contact
from identity.staff_services import staff_unlock
from workspace.views.common import AmountField, add_refusal

RECENT_TRANSACTIONS = 20
KIND_CHOICES = [
    (CUSTOMER_KINDS[0].value, gettext_lazy("Checking")),
    (CUSTOMER_KINDS[1].value, gettext_lazy("Savings")),
]


def customer_or_404(pk: str) -> User:
    return customer_get(customer_id=pk)


class ContactForm(forms.Form):
    email = forms.CharField(max_length=254, label=gettext_lazy("Email"))
    phone = forms.CharField(max_length=32, required=False, label=gettext_lazy("Phone (optional)"))
    address = forms.CharField(max_length=ADDRESS_MAX_LENGTH, required=False, widget=forms.Textarea,
                              label=gettext_lazy("Address (optional)"))


class AccountForm(forms.Form):
    """A new account's kind, currency and (offered to supervisors only) overdraft limit."""

    kind = forms.ChoiceField(choices=KIND_CHOICES, label=gettext_lazy("Account kind"))
    currency = forms.ChoiceField(label=gettext_lazy("Currency"))
    overdraft_limit = AmountField(allow_zero=True, required=False, label=gettext_lazy("Overdraft limit (optional)"))

    def __init__(self, *args, offer_overdraft: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["currency"].choices = [(code, code) for code in settings.FLUX_CURRENCIES]
        self.fields["currency"].initial = settings.FLUX_DEFAULT_CURRENCY
        if not offer_overdraft:
            # Not shown (workspace/_fields.html renders visible fields only), but still read: a
            # limit POSTed by hand goes on to the service, which refuses it (banking/policies.py),
            # instead of being dropped and the account opened as if the request had been granted.
            self.fields["overdraft_limit"].widget = forms.HiddenInput()


class OnboardingForm(AccountForm):
    username = forms.CharField(max_length=150, label=gettext_lazy("Username"))
    first_name = forms.CharField(max_length=150, label=gettext_lazy("First name"))
    last_name = forms.CharField(max_length=150, label=gettext_lazy("Last name"))
    email = forms.CharField(max_length=254, label=gettext_lazy("Email"))
    phone = forms.CharField(max_length=32, required=False, label=gettext_lazy("Phone (optional)"))
    address = forms.CharField(max_length=ADDRESS_MAX_LENGTH, required=False, widget=forms.Textarea,
                              label=gettext_lazy("Address (optional)"))

    field_order = ["username", "first_name", "last_name", "email", "phone", "address", "kind", "currency",
                   "overdraft_limit"]


def render_customer(request: HttpRequest, customer: User, *, contact_form: ContactForm | None = None,
                    status: int = 200) -> HttpResponse:
    accounts = list(customer.accounts.order_by("id"))
    transactions = recent_transactions_of_customer(customer=customer, limit=RECENT_TRANSACTIONS)
    contact_form = contact_form or ContactForm(
        initial={"email": customer.email, "phone": customer.phone, "address": customer.address}
    )
    events = customer_event_page(customer_id=customer.pk, page=request.GET.get("events"))
    for event in events:
        event.details = event_details(event.action, event.data)
    return render(request, "workspace/customer.html", {
        "customer": customer,
        "accounts": accounts,
        "transactions": transactions,
        "events": events,
        "locked_out": lockout.is_locked_out(username=customer.username),
        "contact_form": contact_form,
    }, status=status)


@require_GET
@staff_required
def customer_detail(request: HttpRequest, pk: str) -> HttpResponse:
    return render_customer(request, customer_or_404(pk))


@require_POST
@staff_required
def customer_contact(request: HttpRequest, pk: str) -> HttpResponse:
    customer = customer_or_404(pk)
    form = ContactForm(request.POST)
    if form.is_valid():
        try:
            customer_update_contact(customer=customer, actor=request.user, **form.cleaned_data)
        except ApplicationError as error:
            add_refusal(form, error)
        else:
            messages.success(request, _("The contact details are saved."))
            return redirect("workspace:customer", pk=customer.pk)
    return render_customer(request, customer, contact_form=form, status=400)


@require_POST
@staff_required(supervisor=True)
def customer_password_link(request: HttpRequest, pk: str) -> HttpResponse:
    """Mail a customer who has not chosen their password yet a new link (supervisors; audited)."""
    customer = customer_or_404(pk)
    try:
        password_links.password_link_resend(actor=request.user, user=customer,
                                            base_url=password_links.public_base_url(request))
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("A new link to choose a password is on its way to %(email)s; "
                                    "the previous one no longer works.") % {"email": customer.email})
    return redirect("workspace:customer", pk=customer.pk)


@require_POST
@staff_required(supervisor=True)
def customer_unlock(request: HttpRequest, pk: str) -> HttpResponse:
    """End a customer's lockout before FLUX_LOCKOUT_MINUTES are up (supervisors; audited)."""
    customer = customer_or_404(pk)
    try:
        staff_unlock(actor=request.user, user=customer)
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("%(name)s is unlocked and can try again.")
                         % {"name": customer.get_full_name() or customer.username})
    return redirect("workspace:customer", pk=customer.pk)


@require_http_methods(["GET", "POST"])
@staff_required
def account_new(request: HttpRequest, pk: str) -> HttpResponse:
    """Open another account for a customer."""
    customer = customer_or_404(pk)
    offer_overdraft = may_set_overdraft(request.user)
    if request.method == "GET":
        form = AccountForm(offer_overdraft=offer_overdraft)
        return render(request, "workspace/account_new.html", {"customer": customer, "form": form})
    form = AccountForm(request.POST, offer_overdraft=offer_overdraft)
    status = 400
    if form.is_valid():
        try:
            account = services.account_open(
                actor=request.user, customer_id=customer.pk, kind=form.cleaned_data["kind"],
                currency=form.cleaned_data["currency"], overdraft_limit=form.cleaned_data.get("overdraft_limit") or 0,
            )
        except ApplicationError as error:
            add_refusal(form, error)
            status = error.status
        else:
            messages.success(request, _("The account %(iban)s is open.") % {"iban": account.iban})
            return redirect("workspace:account", pk=account.pk)
    return render(request, "workspace/account_new.html", {"customer": customer, "form": form}, status=status)


@never_cache
@require_http_methods(["GET", "POST"])
@staff_required
def customer_new(request: HttpRequest) -> HttpResponse:
    """Onboarding: the customer and a first account in one form and one transaction. The customer
    gets a link by mail to choose their own password: no member of staff ever sees it."""
    offer_overdraft = may_set_overdraft(request.user)
    if request.method == "GET":
        return render(request, "workspace/customer_new.html", {"form": OnboardingForm(offer_overdraft=offer_overdraft)})
    form = OnboardingForm(request.POST, offer_overdraft=offer_overdraft)
    status = 400
    if form.is_valid():
        data = form.cleaned_data
        try:
            customer, account = services.customer_onboard(
                actor=request.user, username=data["username"], first_name=data["first_name"],
                last_name=data["last_name"], email=data["email"], phone=data["phone"], address=data["address"],
                kind=data["kind"], currency=data["currency"], overdraft_limit=data.get("overdraft_limit") or 0,
                base_url=password_links.public_base_url(request),
            )
        except ApplicationError as error:
            add_refusal(form, error)
            status = error.status
        else:
            return render(request, "workspace/customer_created.html", {
                "customer": customer, "account": account, "link_days": password_links.link_days(),
            }, status=201)
    return render(request, "workspace/customer_new.html", {"form": form}, status=status)
