"""Pages for signing in and out with a session, and staff two-factor sign-in (enrolment and the
code step). The API signs in with JWT (identity/api/)."""

from __future__ import annotations

from base64 import b32encode
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse, reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from core.errors import ApplicationError
from identity import lockout, password_links, services, two_factor


class SignInForm(AuthenticationForm):
    # The API says the same; neither tells which of the two was wrong.
    error_messages = {**AuthenticationForm.error_messages, "invalid_login": gettext_lazy("Wrong username or password.")}

    def clean(self):
        try:
            return super().clean()
        except ValidationError:
            # The lockout refused the attempt (or this failure started it): say so, not "wrong password".
            if lockout.refused_by_lockout(self.request):
                raise ValidationError(lockout.lockout_message(), code="locked_out") from None
            raise


class LoginView(auth_views.LoginView):
    """Sign in; `next` is honoured when it points to this site. Success and failure are audited.
    After FLUX_LOCKOUT_FAILURES failures for one username, it is refused for FLUX_LOCKOUT_MINUTES.
    Staff who must give a second factor (FLUX_REQUIRE_2FA) go on to the code (or enrolment) page."""

    template_name = "identity/login.html"
    form_class = SignInForm
    redirect_authenticated_user = True

    def form_valid(self, form):
        user = form.get_user()
        services.session_login(request=self.request, user=user)
        if two_factor.two_factor_required(user):
            step = "2fa-verify" if two_factor.confirmed_device(user) else "2fa-setup"
            return HttpResponseRedirect(f"{reverse(step)}?{urlencode({'next': self.get_success_url()})}")
        return HttpResponseRedirect(self.get_success_url())

    def form_invalid(self, form):
        # Only a checked pair of credentials is a failed sign-in: an empty field is a typo, and a
        # field its own validation refused (a NUL character, too long) never reached the check
        # (nor may it reach the database: PostgreSQL text cannot hold NUL).
        username = form.data.get("username", "")
        checked = not form.has_error("username") and not form.has_error("password")
        if username and form.data.get("password") and checked:
            lockout.sign_in_failed(request=self.request, username=username, channel="web")
        status = 429 if form.has_error("__all__", "locked_out") else 200
        return self.render_to_response(self.get_context_data(form=form), status=status)


class LogoutView(auth_views.LogoutView):
    """Sign out (POST only, with the CSRF token), audited, then back to the sign-in page."""

    def post(self, request, *args, **kwargs):
        was_signed_in = request.user.is_authenticated
        services.session_logout(request=request)
        if was_signed_in:
            messages.info(request, _("You have signed out."))
        return HttpResponseRedirect(self.get_success_url())


# --- Choosing one's password through the one-time link ----------------------------------------------


class PasswordSetView(auth_views.PasswordResetConfirmView):
    """The page a password link opens (identity/password_links.py): a new member of staff, or a
    customer onboarded without a password, chooses theirs (the password rules apply), then signs in;
    staff enrol two-factor sign-in then when it is required. Django's view checks the token, moves
    it from the URL into the session before showing the form (so it never leaks in a Referer) and
    checks it again on submit; the link works once, since the token signs the old password hash.
    A used, expired, malformed or deactivated user's link gets the "no longer works" page (400)."""

    template_name = "identity/password_set.html"
    success_url = reverse_lazy("login")
    title = gettext_lazy("Choose your password")

    def get_user(self, uidb64):
        user = super().get_user(uidb64)
        return user if user is not None and user.is_active else None

    def dispatch(self, *args, **kwargs):
        response = super().dispatch(*args, **kwargs)
        if not self.validlink and response.status_code == 200:
            response.status_code = 400
        return response

    def form_valid(self, form):
        password_links.password_set_with_link(user=form.user, new_password=form.cleaned_data["new_password1"])
        del self.request.session[auth_views.INTERNAL_RESET_SESSION_TOKEN]
        messages.success(self.request, _("Your password is set. Sign in with your username and your new password."))
        return HttpResponseRedirect(self.get_success_url())


# --- Staff two-factor sign-in ----------------------------------------------------------------------


class CodeForm(forms.Form):
    code = forms.CharField(
        label=gettext_lazy("6-digit code"),
        max_length=16,
        error_messages={"required": gettext_lazy("Type the 6 digits your app shows.")},
    )


def _next_url(request: HttpRequest) -> str:
    wanted = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(wanted, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return wanted
    return reverse("home")


def _not_staff(request: HttpRequest) -> HttpResponse | None:
    if not request.user.is_bank_staff:
        return render(request, "identity/forbidden.html", {"supervisor_only": False}, status=403)
    return None


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def two_factor_setup(request: HttpRequest) -> HttpResponse:
    """Enrol a TOTP device: a QR code (and the secret as text) for the authenticator app, then a
    first code to confirm it. Staff only; once enrolled, this page sends them on."""
    if refusal := _not_staff(request):
        return refusal
    next_url = _next_url(request)
    if two_factor.confirmed_device(request.user):
        if two_factor.two_factor_required(request.user) and not two_factor.session_verified(request, request.user):
            return HttpResponseRedirect(f"{reverse('2fa-verify')}?{urlencode({'next': next_url})}")
        messages.info(request, _("Two-factor sign-in is already set up."))
        return HttpResponseRedirect(next_url)
    device = two_factor.totp_enrolment_start(user=request.user)
    form = CodeForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                two_factor.totp_enrolment_confirm(request=request, user=request.user, code=form.cleaned_data["code"])
            except ApplicationError as error:
                form.add_error("code", error.message)
            else:
                messages.success(request, _("Two-factor sign-in is set up. Keep your phone at hand when you sign in."))
                return HttpResponseRedirect(next_url)
        status = 400
    secret = b32encode(device.bin_key).decode()
    return render(
        request,
        "identity/2fa_setup.html",
        {
            "form": form,
            "next": next_url,
            "qr_svg": two_factor.qr_code_svg(device.config_url),
            "secret_groups": [secret[i : i + 4] for i in range(0, len(secret), 4)],
            "required": two_factor.two_factor_required(request.user),
        },
        status=status,
    )


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def two_factor_verify(request: HttpRequest) -> HttpResponse:
    """The second step of a staff sign-in: a current code from the enrolled device."""
    if refusal := _not_staff(request):
        return refusal
    next_url = _next_url(request)
    if two_factor.confirmed_device(request.user) is None:
        return HttpResponseRedirect(f"{reverse('2fa-setup')}?{urlencode({'next': next_url})}")
    if two_factor.session_verified(request, request.user):
        return HttpResponseRedirect(next_url)
    form = CodeForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                locked = two_factor.session_verify(request=request, user=request.user, code=form.cleaned_data["code"])
            except ApplicationError as error:
                form.add_error("code", error.message)
            else:
                if not locked:
                    return HttpResponseRedirect(next_url)
                services.session_logout(request=request)
                messages.error(request, lockout.lockout_message())
                return HttpResponseRedirect(reverse("login"))
        status = 400
    return render(request, "identity/2fa_verify.html", {"form": form, "next": next_url}, status=status)
