"""API test helpers shared by every app's tests."""

from __future__ import annotations

import uuid

from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from core.testing.users import TEST_PASSWORD

API = "/api/v1/"
PAGE_FIELDS = {"results", "next", "previous"}


def bearer_client(user=None) -> APIClient:
    """An APIClient carrying a fresh access token for `user`, minted directly (no sign-in: no
    audit event, no sign-in rate); anonymous when `user` is None. Tests of signing in itself go
    through POST auth/token/ (`obtain_tokens`, `client_for`)."""
    client = APIClient()
    if user is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(user).access_token}")
    return client


def obtain_tokens(user, password: str = TEST_PASSWORD) -> dict:
    response = APIClient().post(f"{API}auth/token/", {"username": user.username, "password": password},
                                format="json")
    assert response.status_code == 200, response.content
    return response.json()


def client_for(user=None, *, access: str | None = None) -> APIClient:
    """An APIClient signed in as `user` with a real access token from POST auth/token/ (or with the
    `access` token given); anonymous when both are None. Usable from threads (no fixture)."""
    client = APIClient()
    if user is not None:
        access = access or obtain_tokens(user)["access"]
    if access:
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    return client


def idempotency_key() -> str:
    return str(uuid.uuid4())


def assert_error(response, status: int, code: str, *, fields: set[str] | None = None) -> dict:
    """The documented error shape: {"error": {"code", "message", "fields"?}} and nothing else."""
    assert response.status_code == status, (response.status_code, response.content)
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    body = response.json()
    assert set(body) == {"error"}, body
    error = body["error"]
    assert error["code"] == code, error
    assert isinstance(error["message"], str) and error["message"], error
    if code == "batch_refused":
        # The one code with more: each refused item of an all-or-nothing batch.
        assert set(error) == {"code", "message", "items"}, error
        assert error["items"] and all(set(i) == {"index", "code", "message"} for i in error["items"]), error
    elif fields is None:
        assert set(error) <= {"code", "message", "fields"}, error
    else:
        assert set(error) == {"code", "message", "fields"}, error
        assert set(error["fields"]) == fields, error["fields"]
        for messages in error["fields"].values():
            assert isinstance(messages, list) and messages and all(isinstance(m, str) for m in messages)
    return error


def post(client: APIClient, url: str, data: dict | None = None, *, key: str | None = None):
    headers = {"Idempotency-Key": key} if key else {}
    return client.post(url, data or {}, format="json", headers=headers)


def page(response) -> list[dict]:
    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == PAGE_FIELDS, body
    return body["results"]
