"""The security baseline, each test failing if its feature were switched off: the Content-Security-
Policy (pages, API docs, API), the other security headers, CORS for the API only, the API's body
size limit (413 without a trace in the ledger), and the production settings (`check --deploy`
clean, no start with DEBUG on or a weak SECRET_KEY)."""

from __future__ import annotations

import asyncio
import json
import re
import tempfile
import uuid

import pytest
from django.conf import settings
from django.core.handlers.asgi import ASGIRequest
from django.test import override_settings
from rest_framework.parsers import JSONParser
from rest_framework.request import Request

from banking.models import Entry
from core.middleware import ApiBodySizeLimitMiddleware, BodySizeLimitASGI
from core.testing.api import bearer_client as api_client
from core.testing.prod import run_with_prod_settings

pytestmark = pytest.mark.django_db

TRANSFERS = "/api/v1/transfers/"
DOCS = "/api/v1/docs/"
ALLOWED_ORIGIN = "https://app.example.com"


def policy(response, header: str = "Content-Security-Policy") -> dict[str, list[str]]:
    """The policy header as {directive: [values]}."""
    assert header in response, f"no {header} header"
    directives = {}
    for part in response[header].split(";"):
        name, *values = part.split()
        directives[name] = values
    return directives



def inline_scripts(html: str) -> list[str]:
    return [tag for tag in re.findall(r"<script\b[^>]*>", html) if "src=" not in tag]


def assert_strict_page_policy(directives: dict[str, list[str]]) -> None:
    assert directives["script-src"] == ["'self'"]
    assert directives["default-src"] == ["'self'"]
    assert directives["object-src"] == ["'none'"]
    assert directives["frame-ancestors"] == ["'none'"]
    assert directives["base-uri"] == ["'self'"] and directives["form-action"] == ["'self'"]
    for values in directives.values():
        assert "'unsafe-inline'" not in values and "'unsafe-eval'" not in values


# --- Content-Security-Policy ---------------------------------------------------------------


@pytest.mark.parametrize("url", ["/", "/login/"])
def test_pages_are_served_under_a_strict_policy_and_carry_no_inline_script(client, url):
    response = client.get(url)

    assert response.status_code == 200
    directives = policy(response)
    assert_strict_page_policy(directives)
    assert directives["style-src"] == ["'self'"]  # no nonce: these pages have no inline style
    html = response.content.decode()
    assert inline_scripts(html) == []
    assert ' style="' not in html


def test_a_customer_page_is_served_under_the_policy(client, alice, alice_account):
    client.force_login(alice)

    response = client.get("/app/")

    assert response.status_code == 200
    assert_strict_page_policy(policy(response))
    assert inline_scripts(response.content.decode()) == []


def test_the_api_docs_load_their_script_from_a_file_and_their_style_with_the_nonce(client):
    response = client.get(DOCS)

    assert response.status_code == 200
    directives = policy(response)
    assert_strict_page_policy(directives)
    html = response.content.decode()
    assert inline_scripts(html) == []
    # The one inline <style> carries this response's nonce, and the header names that nonce.
    (nonce,) = re.findall(r'<style nonce="([^"]+)">', html)
    assert directives["style-src"] == ["'self'", f"'nonce-{nonce}'"]
    assert client.get(DOCS).content.decode().count(nonce) == 0  # a new nonce for every response
    script_url = re.findall(r'<script src="([^"]*\?[^"]*script[^"]*)">', html)[0].replace("&amp;", "&")
    script = client.get(script_url)
    assert script.status_code == 200 and script["Content-Type"].startswith("application/javascript")
    assert b"SwaggerUIBundle(" in script.content


def test_api_answers_may_load_nothing(client, alice):
    response = api_client(alice).get("/api/v1/me/")

    assert response.status_code == 200
    assert policy(response) == {"default-src": ["'none'"], "frame-ancestors": ["'none'"]}
    # A refusal too.
    assert policy(client.get("/api/v1/me/")) == {"default-src": ["'none'"], "frame-ancestors": ["'none'"]}


# --- Other headers -------------------------------------------------------------------------


@pytest.mark.parametrize("url", ["/login/", "/api/v1/me/", DOCS])
def test_every_answer_carries_the_security_headers(client, url):
    response = client.get(url)

    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    features = dict(item.split("=", 1) for item in response["Permissions-Policy"].split(", "))
    for feature in ("camera", "microphone", "geolocation", "payment", "usb", "serial"):
        assert features[feature] == "()", feature


def test_hsts_and_the_https_redirect_are_left_to_production(client):
    response = client.get("/login/")

    assert response.status_code == 200
    assert "Strict-Transport-Security" not in response  # on plain HTTP in development and tests


# --- CORS ----------------------------------------------------------------------------------


def preflight(client, url: str, origin: str):
    return client.options(
        url,
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type,idempotency-key",
        },
    )


def test_no_origin_is_allowed_by_default(client):
    assert settings.CORS_ALLOWED_ORIGINS == []

    response = preflight(client, TRANSFERS, ALLOWED_ORIGIN)

    assert "Access-Control-Allow-Origin" not in response
    assert "Access-Control-Allow-Headers" not in response


@override_settings(CORS_ALLOWED_ORIGINS=[ALLOWED_ORIGIN])
def test_an_allowed_origin_may_call_the_api_with_a_bearer_token_and_an_idempotency_key(client, alice):
    response = preflight(client, TRANSFERS, ALLOWED_ORIGIN)

    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == ALLOWED_ORIGIN
    allowed = {header.strip() for header in response["Access-Control-Allow-Headers"].split(",")}
    assert {"authorization", "content-type", "idempotency-key"} <= allowed
    assert "POST" in response["Access-Control-Allow-Methods"]
    assert "Access-Control-Allow-Credentials" not in response  # bearer tokens, never cookies

    answer = api_client(alice).get("/api/v1/me/", headers={"Origin": ALLOWED_ORIGIN})
    assert answer["Access-Control-Allow-Origin"] == ALLOWED_ORIGIN
    exposed = {header.strip().lower() for header in answer["Access-Control-Expose-Headers"].split(",")}
    assert exposed == {"retry-after", "idempotent-replayed"}


@override_settings(CORS_ALLOWED_ORIGINS=[ALLOWED_ORIGIN])
def test_another_origin_and_the_pages_get_no_cors_headers(client):
    other = preflight(client, TRANSFERS, "https://evil.example.net")
    page = preflight(client, "/login/", ALLOWED_ORIGIN)

    assert "Access-Control-Allow-Origin" not in other
    assert "Access-Control-Allow-Origin" not in page


# --- Request size --------------------------------------------------------------------------


def padded_transfer(source, destination, size: int) -> bytes:
    """A valid transfer body, padded with JSON whitespace to `size` bytes."""
    body = json.dumps({"source_account": source.pk, "destination_iban": destination.iban, "amount": "10.00"})
    return body.encode() + b" " * (size - len(body))


def test_an_oversized_api_body_is_refused_with_413_and_moves_nothing(alice, alice_account, bob_account, unchanged):
    client = api_client(alice)
    body = padded_transfer(alice_account, bob_account, settings.FLUX_API_MAX_BODY_BYTES + 1)

    with unchanged():
        response = client.post(TRANSFERS, body, content_type="application/json",
                               headers={"Idempotency-Key": str(uuid.uuid4())})

    assert response.status_code == 413
    assert response.json() == {"error": {"code": "request_too_large", "message": (
        f"The request body is larger than {settings.FLUX_API_MAX_BODY_BYTES} bytes; nothing was applied.")}}


def test_the_same_body_within_the_limit_is_accepted(alice, alice_account, bob_account):
    client = api_client(alice)
    body = padded_transfer(alice_account, bob_account, settings.FLUX_API_MAX_BODY_BYTES)

    response = client.post(TRANSFERS, body, content_type="application/json",
                           headers={"Idempotency-Key": str(uuid.uuid4())})

    assert response.status_code == 201, response.content
    assert Entry.objects.filter(account=alice_account, amount=-10_00).count() == 1


def asgi_request(body: bytes, headers: list[tuple[bytes, bytes]]) -> ASGIRequest:
    scope = {"type": "http", "method": "POST", "path": TRANSFERS, "query_string": b"", "headers": headers}
    body_file = tempfile.SpooledTemporaryFile()
    body_file.write(body)
    body_file.seek(0)
    return ASGIRequest(scope, body_file)


def test_a_chunked_body_without_a_length_is_read_only_up_to_the_limit():
    limit = settings.FLUX_API_MAX_BODY_BYTES
    middleware = ApiBodySizeLimitMiddleware(lambda request: None)
    chunked = [(b"content-type", b"application/json"), (b"transfer-encoding", b"chunked")]

    too_large = middleware.process_request(asgi_request(b"x" * (limit + 10), chunked))
    request = asgi_request(b'{"amount": "1.00"}', chunked)
    within = middleware.process_request(request)

    assert too_large.status_code == 413
    assert json.loads(too_large.content)["error"]["code"] == "request_too_large"
    assert within is None and request.body == b'{"amount": "1.00"}'
    # ...and so does DRF, which reads a body only when it has a length.
    assert Request(request, parsers=[JSONParser()]).data == {"amount": "1.00"}


# --- The same limit in front of Django under ASGI ---------------------------------------------


class Recorder:
    """The app behind the wrapper: records the body it was given, answers 200."""

    def __init__(self):
        self.bodies: list[bytes] = []

    async def __call__(self, scope, receive, send):
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        self.bodies.append(body)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})


def call_asgi(app, path: str, chunks: list[bytes], *, length: int | None) -> tuple[int, bytes, int]:
    """Send `chunks` as one request; return the status, the answer and how many chunks were read."""
    headers = [(b"content-type", b"application/json")]
    if length is not None:
        headers.append((b"content-length", str(length).encode()))
    scope = {"type": "http", "method": "POST", "path": path, "query_string": b"", "headers": headers}
    pending = [{"type": "http.request", "body": chunk, "more_body": n < len(chunks) - 1}
               for n, chunk in enumerate(chunks)]
    read = 0
    sent: list[dict] = []

    async def receive():
        nonlocal read
        read += 1
        return pending.pop(0) if pending else {"type": "http.disconnect"}

    async def send(message):
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    return sent[0]["status"], b"".join(m.get("body", b"") for m in sent[1:]), read


def test_under_asgi_an_announced_oversized_body_is_refused_unread():
    inner = Recorder()
    limit = settings.FLUX_API_MAX_BODY_BYTES
    status, body, read = call_asgi(BodySizeLimitASGI(inner), TRANSFERS, [b"x" * 10], length=10**9)
    assert status == 413 and json.loads(body)["error"]["code"] == "request_too_large"
    assert read == 0 and inner.bodies == []
    status, body, read = call_asgi(BodySizeLimitASGI(inner), "/login/", [b"x"], length=limit * 1000)
    assert status == 413 and body == b"Request body too large." and read == 0


def test_under_asgi_a_chunked_body_is_refused_once_past_the_limit():
    inner = Recorder()
    limit = settings.FLUX_API_MAX_BODY_BYTES
    chunk = b"x" * (limit // 4)
    status, body, read = call_asgi(BodySizeLimitASGI(inner), TRANSFERS, [chunk] * 100, length=None)
    assert status == 413 and json.loads(body)["error"]["code"] == "request_too_large"
    assert read == 5 and inner.bodies == []  # stopped at the first chunk past the limit


@pytest.mark.parametrize("length", [None, "announced"])
def test_under_asgi_a_body_within_the_limit_reaches_django_as_sent(length):
    inner = Recorder()
    chunks = [b'{"amount": ', b'"1.00"}']
    size = sum(map(len, chunks)) if length else None
    status, body, _read = call_asgi(BodySizeLimitASGI(inner), TRANSFERS, chunks, length=size)
    assert status == 200 and body == b"ok" and inner.bodies == [b'{"amount": "1.00"}']


def test_the_served_application_is_wrapped():
    from project import asgi

    assert isinstance(asgi.application, BodySizeLimitASGI)


def test_pages_keep_djangos_own_limit(client):
    """The API's limit is not the pages': a sign-in form of 100 KB is answered by the page."""
    response = client.post("/login/", {"username": "nobody", "password": "x" * 100_000})

    assert response.status_code == 200
    assert "Content-Security-Policy" in response


def test_a_non_json_api_body_keeps_the_error_shape(alice, alice_account, bob_account, unchanged):
    with unchanged():
        response = api_client(alice).post(TRANSFERS, "source_account=1", content_type="text/plain",
                                          headers={"Idempotency-Key": str(uuid.uuid4())})

    assert response.status_code == 415
    error = response.json()["error"]
    assert error["code"] == "unsupported_media_type" and error["message"]


# --- Production settings -------------------------------------------------------------------


def test_the_production_settings_pass_the_deployment_checks():
    result = run_with_prod_settings("check", "--deploy")

    assert result.returncode == 0, result.stderr
    output = result.stdout + result.stderr
    assert "WARNINGS" not in output and "ERRORS" not in output, output
    assert "System check identified no issues" in output


@pytest.mark.parametrize(("env", "message"), [
    ({"DEBUG": "1"}, "DEBUG is on"),
    ({"SECRET_KEY": "short"}, "SECRET_KEY"),
    ({"SECRET_KEY": "a" * 60}, "SECRET_KEY"),
    ({"FLUX_NUM_PROXIES": ""}, "FLUX_NUM_PROXIES"),
])
def test_production_refuses_to_start_with_debug_a_weak_secret_key_or_no_proxy_count(env, message):
    result = run_with_prod_settings("check", **env)

    assert result.returncode != 0
    assert message in result.stderr


PROD_HEADERS_SCRIPT = """
import json
from django.test import Client
client = Client()
plain = client.get("/manifest.json")
secure = client.get("/manifest.json", headers={"X-Forwarded-Proto": "https"})
print(json.dumps({"plain": [plain.status_code, plain.get("Location")],
                  "secure": [secure.status_code, dict(secure.headers)]}))
"""


def test_production_redirects_to_https_and_sends_hsts_behind_the_proxy():
    result = run_with_prod_settings("shell", "-c", PROD_HEADERS_SCRIPT, ALLOWED_HOSTS="testserver")

    assert result.returncode == 0, result.stderr
    answers = json.loads(result.stdout.strip().splitlines()[-1])
    assert answers["plain"] == [301, "https://testserver/manifest.json"]
    status, headers = answers["secure"]
    assert status == 200
    assert headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
    assert "upgrade-insecure-requests" in headers["Content-Security-Policy"]
    assert "'unsafe-inline'" not in headers["Content-Security-Policy"]
