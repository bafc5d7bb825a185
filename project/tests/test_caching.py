"""`Cache-Control: no-store` (core.middleware.NoStoreMiddleware): on every API answer, errors
included, and on every page built for a signed-in person; static files, the service worker, the
manifest and the offline shell (the same for everyone) keep their caching."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from django.test import Client
from django.utils.cache import get_max_age

from banking.services import deposit_create
from core.middleware import BodySizeLimitASGI
from core.testing.api import bearer_client

pytestmark = pytest.mark.django_db


def directives(response) -> set[str]:
    return {part.strip().split("=")[0].lower() for part in response.get("Cache-Control", "").split(",") if part.strip()}


def assert_no_store(response, what: str) -> None:
    assert "no-store" in directives(response), f"{what}: Cache-Control is {response.get('Cache-Control')!r}"


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def deposit(alice_account, agnes):
    return deposit_create(initiator=agnes, account_id=alice_account.pk, amount=10_00)


def test_every_customer_page_is_no_store(alice, alice_account, deposit):
    client = signed_in(alice)
    pages = [
        "/app/",
        f"/app/accounts/{alice_account.pk}/",
        f"/app/accounts/{alice_account.pk}/?q=cash",
        "/app/transfer/",
        f"/app/transfer/{deposit.pk}/",
        "/app/beneficiaries/",
        "/app/statements/",
        "/app/profile/",
    ]
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        assert_no_store(response, url)


def test_every_desk_and_staff_page_is_no_store(alice, alice_account, agnes, sam, deposit):
    pages = {
        agnes: [
            "/agent/",
            "/agent/?q=alice",
            "/agent/search/?q=ali",
            f"/agent/customers/{alice.pk}/",
            f"/agent/accounts/{alice_account.pk}/",
            f"/agent/transactions/{deposit.pk}/",
            f"/agent/transactions/{deposit.pk}/receipt/",
            "/agent/approvals/",
            "/agent/imports/",
        ],
        sam: ["/agent/staff/", "/staff/audit/"],
    }
    for user, urls in pages.items():
        client = signed_in(user)
        for url in urls:
            response = client.get(url)
            assert response.status_code == 200, url
            assert_no_store(response, url)


def test_a_signed_in_refusal_page_is_no_store_too(alice):
    response = signed_in(alice).get("/agent/")

    assert response.status_code == 403
    assert_no_store(response, "the desk's 403 page")


def test_every_api_answer_is_no_store_errors_included(alice, alice_account, bob_account, agnes):
    customer, agent, anonymous = bearer_client(alice), bearer_client(agnes), bearer_client()
    answers = {
        "me": customer.get("/api/v1/me/"),
        "accounts": customer.get("/api/v1/accounts/"),
        "entries": customer.get(f"/api/v1/accounts/{alice_account.pk}/entries/"),
        "customers": agent.get("/api/v1/customers/?q=alice"),
        "transfer": customer.post("/api/v1/transfers/", {
            "source_account": alice_account.pk, "destination_iban": bob_account.iban, "amount": "1.00",
        }, format="json", headers={"Idempotency-Key": str(uuid.uuid4())}),
        "400": customer.get(f"/api/v1/accounts/{alice_account.pk}/entries/?min=abc"),
        "401": anonymous.get("/api/v1/me/"),
        "403": customer.get("/api/v1/customers/"),
        "404": customer.get("/api/v1/accounts/999999999/"),
        "unknown path": customer.get("/api/v1/nope/"),
        "405": customer.delete("/api/v1/me/"),
        "wrong sign-in": anonymous.post("/api/v1/auth/token/", {"username": "alice", "password": "x"}, format="json"),
        "413": customer.post("/api/v1/transfers/", "x" * 100_000, content_type="application/json"),
        "schema": anonymous.get("/api/v1/schema/"),
    }
    assert answers["transfer"].status_code == 201
    for name, response in answers.items():
        assert_no_store(response, name)


def test_static_files_the_worker_the_manifest_and_the_offline_shell_keep_their_caching(alice):
    for client in (Client(), signed_in(alice)):
        for url in ("/static/js/app.js", "/static/icons/flux-192.png", "/serviceworker.js", "/manifest.json",
                    "/app/offline/"):
            response = client.get(url)
            assert response.status_code == 200, url
            assert "no-store" not in directives(response), f"{url}: {response.get('Cache-Control')!r}"


def test_static_files_keep_whitenoises_caching_for_a_signed_in_visitor(alice):
    """WhiteNoise's own caching headers are untouched (a max-age)."""
    response = signed_in(alice).get("/static/js/app.js")

    assert get_max_age(response) is not None


def test_the_public_home_page_is_not_marked(client):
    response = client.get("/")

    assert response.status_code == 200
    assert "no-store" not in directives(response)


def test_the_asgi_body_limit_answer_is_no_store_too():
    """The 413 that the ASGI wrapper sends before Django runs (core.middleware.BodySizeLimitASGI)."""
    sent: list[dict] = []

    async def app(scope, receive, send):  # never reached
        raise AssertionError("the oversized body reached Django")

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": "/api/v1/transfers/", "query_string": b"",
             "headers": [(b"content-length", b"1000000000")]}
    asyncio.run(BodySizeLimitASGI(app)(scope, receive, send))

    assert sent[0]["status"] == 413
    assert (b"cache-control", b"no-store") in sent[0]["headers"]
