"""The installable app: manifest, icons, service worker, offline page, and the JWT hand-over."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from rest_framework.test import APIClient
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken

from audit import actions
from audit.models import AuditEvent
from core.testing.request_ids import request_data
from core.testing.users import TEST_PASSWORD
from identity.tokens import FAMILY_CLAIM

TOKEN = "/app/token/"


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR", f"{path} is not a PNG"
    return struct.unpack(">II", data[16:24])


def test_the_manifest_describes_an_installable_app(client, db):
    response = client.get("/manifest.json")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    manifest = response.json()
    assert manifest["name"] == "Flux"
    assert manifest["short_name"] == "Flux"
    assert manifest["description"]
    assert manifest["display"] == "standalone"
    assert manifest["start_url"] == "/app/"
    assert manifest["scope"] == "/"
    assert manifest["theme_color"] == "#1d4ed8"
    assert manifest["background_color"] == "#f8fafc"
    sizes = {(icon["sizes"], icon["purpose"]) for icon in manifest["icons"]}
    assert {("192x192", "any"), ("512x512", "any"), ("512x512", "maskable")} <= sizes


def test_every_manifest_icon_is_a_png_of_its_stated_size(client, db):
    for icon in client.get("/manifest.json").json()["icons"]:
        path = Path(settings.BASE_DIR) / icon["src"].lstrip("/")
        width, height = (int(n) for n in icon["sizes"].split("x"))
        assert png_size(path) == (width, height)
        assert client.get(icon["src"]).status_code == 200


def test_the_service_worker_is_served_as_javascript_from_the_root(client, db):
    response = client.get("/serviceworker.js")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/javascript")
    body = response.content.decode()
    assert body == (Path(settings.BASE_DIR) / "static" / "js" / "serviceworker.js").read_text()
    assert '"/app/offline/"' in body
    # Nothing carrying a token goes through the worker's cache.
    assert '"/api/"' in body and '"/app/token/"' in body


OFFLINE_SCRIPTS = ("offline-store.js", "offline-outbox.js", "offline.js", "alpine-csp.min.js")


def assert_offline_scripts_in_order(html: str) -> None:
    """The store (which carries the URLs), the outbox, then the page's components: deferred
    scripts run in document order, and all three must run before Alpine starts."""
    positions = [html.find(f'/{name}"') for name in OFFLINE_SCRIPTS]
    assert -1 not in positions, dict(zip(OFFLINE_SCRIPTS, positions, strict=True))
    assert positions == sorted(positions)
    assert 'src="/static/js/offline-store.js" id="flux-offline"' in html


def test_pages_link_the_manifest_and_register_the_worker(client, db):
    html = client.get("/login/").content.decode()

    assert '<link rel="manifest" href="/manifest.json">' in html
    assert 'data-worker="/serviceworker.js"' in html
    assert '<meta name="theme-color" content="#1d4ed8">' in html
    assert "static/js/offline" not in html  # offline data is for customer pages only


def test_customer_pages_carry_the_offline_script_and_a_csrf_token(client, alice):
    client.force_login(alice)
    html = client.get("/", follow=True).content.decode()

    assert_offline_scripts_in_order(html)
    assert f'<meta name="flux-customer" content="{alice.pk}">' in html
    assert '<meta name="csrf-token" content="' in html
    assert 'data-testid="offline-banner"' in html


def test_the_offline_page_is_the_same_for_everyone(client, alice):
    anonymous = client.get("/app/offline/")
    client.force_login(alice)
    signed_in = client.get("/app/offline/")

    assert anonymous.status_code == signed_in.status_code == 200
    html = signed_in.content.decode()
    assert alice.get_full_name() not in html
    assert 'name="csrf-token"' not in html
    assert 'x-data="offlineAccounts"' in html
    assert 'x-data="outboxForm"' in html
    assert_offline_scripts_in_order(html)  # the worker precaches what this page links
    assert 'href="/login/"' not in html  # no sign-in link that cannot load offline


def test_the_offline_page_never_sets_the_csrf_cookie(client, alice):
    """The service worker fetches the shell in the background, often while the person signs in on
    the page in front: a CSRF cookie in that answer would arrive after the sign-in's rotated one and
    overwrite it, and the next form (signing out) would be refused as a forged request."""
    client.get("/login/")  # a visitor's first page sets the cookie
    assert "csrftoken" in client.cookies

    response = client.get("/app/offline/")

    assert response.status_code == 200
    assert "csrftoken" not in response.cookies
    assert 'name="csrfmiddlewaretoken"' not in response.content.decode()  # nothing to post offline


# --- POST /app/token/ -----------------------------------------------------------------------------


def test_a_customer_gets_a_working_token_pair(client, alice, alice_account):
    client.force_login(alice)

    response = client.post(TOKEN)

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    pair = response.json()
    assert set(pair) == {"access", "refresh"}
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {pair['access']}")
    assert api.get("/api/v1/me/").json()["username"] == "alice"
    assert OutstandingToken.objects.filter(user=alice).count() == 1


def test_the_token_needs_the_csrf_token(alice):
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)

    assert client.post(TOKEN).status_code == 403
    page = client.get("/", follow=True)
    token = page.content.decode().split('<meta name="csrf-token" content="', 1)[1].split('"', 1)[0]
    assert client.post(TOKEN, HTTP_X_CSRFTOKEN=token).status_code == 200


def test_the_token_refuses_a_foreign_origin(alice):
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    page = client.get("/", follow=True)
    token = page.content.decode().split('<meta name="csrf-token" content="', 1)[1].split('"', 1)[0]

    response = client.post(TOKEN, HTTP_X_CSRFTOKEN=token, HTTP_ORIGIN="https://evil.example")

    assert response.status_code == 403
    assert not OutstandingToken.objects.exists()


@pytest.mark.parametrize("method", ["get", "put", "delete"])
def test_the_token_is_post_only(client, alice, method):
    client.force_login(alice)
    assert getattr(client, method)(TOKEN).status_code == 405
    assert not OutstandingToken.objects.exists()


def test_staff_and_strangers_get_no_token(client, agnes):
    anonymous = client.post(TOKEN)
    assert anonymous.status_code == 401
    assert anonymous.json()["error"]["code"] == "not_authenticated"

    client.force_login(agnes)
    staff = client.post(TOKEN)
    assert staff.status_code == 403
    assert staff.json()["error"]["code"] == "permission_denied"
    assert not OutstandingToken.objects.exists()


# --- Signing out of the pages revokes the app's pairs ----------------------------------------------

REFRESH = "/api/v1/auth/token/refresh/"
ME = "/api/v1/me/"


def api_me(access: str):
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    return api.get(ME)


def api_refresh(refresh: str):
    return APIClient().post(REFRESH, {"refresh": refresh}, format="json")


def signed_in_page(user) -> Client:
    page = Client()
    assert page.post("/login/", {"username": user.username, "password": TEST_PASSWORD}).status_code == 302
    return page


def test_signing_out_of_the_pages_revokes_the_pairs_the_session_was_handed(alice):
    page = signed_in_page(alice)
    first, second = page.post(TOKEN).json(), page.post(TOKEN).json()  # two page loads: one family
    assert api_me(first["access"]).status_code == 200
    assert len({RefreshToken(pair["refresh"])[FAMILY_CLAIM] for pair in (first, second)}) == 1
    elsewhere = signed_in_page(alice).post(TOKEN).json()  # another browser: its own session
    api_pair = APIClient().post("/api/v1/auth/token/", {"username": "alice", "password": TEST_PASSWORD},
                                format="json").json()

    signed_out = page.post("/logout/")
    assert signed_out.status_code == 302

    for pair in (first, second):
        refused = api_refresh(pair["refresh"])
        assert refused.status_code == 401 and refused.json()["error"]["code"] == "not_authenticated"
        assert api_me(pair["access"]).status_code == 401
    assert OutstandingToken.objects.filter(user=alice, blacklistedtoken__isnull=True).count() == 2  # not these
    [event] = AuditEvent.objects.filter(action=actions.AUTH_LOGOUT)
    assert request_data(event, signed_out) == {"channel": "web", "app_tokens_revoked": 2}
    assert not AuditEvent.objects.filter(action=actions.AUTH_TOKEN_REUSED).exists()
    # The other browser's session and the API sign-in are not touched.
    assert api_me(elsewhere["access"]).status_code == 200
    assert api_refresh(elsewhere["refresh"]).status_code == 200
    assert api_me(api_pair["access"]).status_code == 200
    assert api_refresh(api_pair["refresh"]).status_code == 200


def test_a_pair_refreshed_through_the_api_is_revoked_at_sign_out_too(alice):
    page = signed_in_page(alice)
    minted = page.post(TOKEN).json()
    rotated = api_refresh(minted["refresh"]).json()  # the successor stays in the session's family

    page.post("/logout/")

    assert api_refresh(rotated["refresh"]).status_code == 401
    assert api_me(rotated["access"]).status_code == 401


def test_signing_out_without_app_tokens_is_audited_as_before(alice):
    page = signed_in_page(alice)

    signed_out = page.post("/logout/")

    assert request_data(AuditEvent.objects.get(action=actions.AUTH_LOGOUT), signed_out) == {"channel": "web"}

