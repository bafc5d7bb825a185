"""The lockout's authentication backend (first in AUTHENTICATION_BACKENDS)."""

from __future__ import annotations

from axes.backends import AxesStandaloneBackend


class LockoutBackend(AxesStandaloneBackend):
    """django-axes' check that the username is not locked out, for every sign-in that comes with a
    request: the sign-in page, the token endpoint (identity.services.token_obtain always passes
    one) and the admin's sign-in. `authenticate()` without a request (Django's test client
    `login()`, a shell) has nothing to count per attempt, and axes would raise: let it through
    to the password check instead."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)
