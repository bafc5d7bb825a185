"""A bearer token verified once is not decoded again at each request (identity.authentication:
its payload is remembered by its exact bytes), and that changes nothing about who is let in."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken

from core.testing.api import API, assert_error, obtain_tokens
from identity.models import TokenFamily
from identity.tokens import family_id_of

pytestmark = pytest.mark.django_db


def _client(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def test_a_remembered_token_is_refused_once_it_expires(alice):
    access = AccessToken.for_user(alice)
    access.set_exp(lifetime=timedelta(seconds=2))
    client = _client(str(access))
    assert client.get(f"{API}me/").status_code == 200  # verified, remembered
    time.sleep(2.2)
    assert_error(client.get(f"{API}me/"), 401, "not_authenticated")


def test_a_token_altered_after_the_genuine_one_was_remembered_is_refused(alice):
    token = obtain_tokens(alice)["access"]
    assert _client(token).get(f"{API}me/").status_code == 200
    header, payload, signature = token.split(".")
    forged_signature = ("A" if signature[0] != "A" else "B") + signature[1:]
    assert_error(_client(f"{header}.{payload}.{forged_signature}").get(f"{API}me/"), 401, "not_authenticated")


def test_a_remembered_token_of_a_revoked_family_is_refused(alice):
    token = obtain_tokens(alice)["access"]
    client = _client(token)
    assert client.get(f"{API}me/").status_code == 200
    TokenFamily.objects.filter(pk=family_id_of(AccessToken(token))).update(revoked_at=timezone.now())
    assert_error(client.get(f"{API}me/"), 401, "not_authenticated")
