"""API test helpers shared by every app's tests."""

from __future__ import annotations

from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken


def bearer_client(user=None) -> APIClient:
    """An APIClient carrying a fresh access token for `user`, minted directly (no sign-in: no
    audit event, no sign-in rate); anonymous when `user` is None. Tests of signing in itself go
    through POST auth/token/ (banking/tests/api_support.py `client_for`)."""
    client = APIClient()
    if user is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(user).access_token}")
    return client
