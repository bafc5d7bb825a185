from django.urls import path

from identity import views
from identity.throttling import sign_in_rate_limited

urlpatterns = [
    # Attempts (POSTs) count against the client address's `auth` rate (identity/throttling.py).
    path("login/", sign_in_rate_limited(views.LoginView.as_view()), name="login"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
]

urlpatterns += [
    # The one-time link to choose one's password (identity/password_links.py).
    path("account/password/<uidb64>/<token>/", views.PasswordSetView.as_view(), name="password-set"),
    # Staff two-factor sign-in: enrolment (QR code) and the code after the password.
    path("account/2fa/setup/", views.two_factor_setup, name="2fa-setup"),
    path("account/2fa/verify/", views.two_factor_verify, name="2fa-verify"),
]
