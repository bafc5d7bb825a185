"""Pages for signing in and out with a session. The API signs in with JWT (identity/api/)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.http import HttpResponseRedirect

from identity import services


class SignInForm(AuthenticationForm):
    # The API says the same; neither tells which of the two was wrong.
    error_messages = {**AuthenticationForm.error_messages, "invalid_login": "Wrong username or password."}


class LoginView(auth_views.LoginView):
    """Sign in; `next` is honoured when it points to this site. Success and failure are audited."""

    template_name = "identity/login.html"
    form_class = SignInForm
    redirect_authenticated_user = True

    def form_valid(self, form):
        services.session_login(request=self.request, user=form.get_user())
        return HttpResponseRedirect(self.get_success_url())

    def form_invalid(self, form):
        # Only a checked pair of credentials is a failed sign-in; an empty field is a typo.
        username = form.data.get("username", "")
        if username and form.data.get("password"):
            services.session_login_failed(username=username)
        return super().form_invalid(form)


class LogoutView(auth_views.LogoutView):
    """Sign out (POST only, with the CSRF token), audited, then back to the sign-in page."""

    def post(self, request, *args, **kwargs):
        was_signed_in = request.user.is_authenticated
        services.session_logout(request=request)
        if was_signed_in:
            messages.info(request, "You have signed out.")
        return HttpResponseRedirect(self.get_success_url())
