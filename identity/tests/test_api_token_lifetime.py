"""Access tokens live a few minutes (FLUX_ACCESS_TOKEN_MINUTES, default 5) and are refused after."""

from __future__ import annotations

from datetime import timedelta

import pytest
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken

from core.testing.api import API, assert_error, obtain_tokens

pytestmark = pytest.mark.django_db


def test_an_access_token_lives_five_minutes(alice):
    access = AccessToken(obtain_tokens(alice)["access"])
    assert access["exp"] - access["iat"] == 5 * 60


def test_an_expired_access_token_is_refused(alice):
    access = AccessToken.for_user(alice)
    access.set_exp(lifetime=-timedelta(seconds=1))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    assert_error(client.get(f"{API}me/"), 401, "not_authenticated")
    access.set_exp(lifetime=timedelta(minutes=1))
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    assert client.get(f"{API}me/").status_code == 200
