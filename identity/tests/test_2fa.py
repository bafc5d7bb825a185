"""Two-factor sign-in for staff (django-otp TOTP), when FLUX_REQUIRE_2FA is on: enrolment with a
QR code, the code after the password, staff pages refused until then, the API's `otp`."""

from __future__ import annotations

import time
from base64 import b32encode

import pytest
from django.http import HttpResponse
from django.test import Client, RequestFactory
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.test import APIClient

from audit import actions
from audit.models import AuditEvent
from core.testing.request_ids import request_data
from core.testing.users import TEST_PASSWORD
from identity.decorators import staff_required
from identity.staff_services import staff_2fa_reset

LOGIN = "/login/"
SETUP = "/account/2fa/setup/"
VERIFY = "/account/2fa/verify/"
TOKEN = "/api/v1/auth/token/"
STAFF_PAGES = ["/agent/imports/", "/staff/audit/", "/admin/banking/account/"]


@pytest.fixture
def required(settings):
    settings.FLUX_REQUIRE_2FA = True
    # No slow-down between a wrong and a right code here (django-otp waits 2^n seconds otherwise).
    settings.OTP_TOTP_THROTTLE_FACTOR = 0


def code_for(device: TOTPDevice, *, step: int = 0) -> str:
    """The device's code now (step 0) or in `step` periods: a code is accepted once, so a second
    sign-in within the same 30 seconds uses the next period's (within the device's tolerance)."""
    code = totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits, drift=device.drift + step)
    return f"{code:06d}"


def away_from_the_end_of_a_period(device: TOTPDevice, *, margin: float = 10.0) -> None:
    """Wait, if need be, until the current period has `margin` seconds left: a test that uses this
    period's code and then the next one's would otherwise see the period roll over in between (the
    code "used again" then being the next period's, accepted: a flake in CI at hh:mm:59.98)."""
    left = device.step - (time.time() - device.t0) % device.step
    if left < margin:
        time.sleep(left + 0.1)


def enrolled(user) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="Flux", confirmed=True)


def events(action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action).order_by("pk"))


def sign_in(client: Client, username: str, next_url: str = ""):
    return client.post(LOGIN + (f"?next={next_url}" if next_url else ""), {"username": username,
                                                                         "password": TEST_PASSWORD})


# --- Pages --------------------------------------------------------------------------------------


@pytest.mark.parametrize("page", STAFF_PAGES)
def test_staff_without_a_device_are_sent_to_enrolment_and_never_reach_a_staff_page(client, sam, required, page):
    response = sign_in(client, "sam", page)

    assert response.status_code == 302
    assert response.url.startswith(SETUP)
    assert client.get(page).url.startswith(SETUP)
    assert client.get("/agent/").url.startswith(SETUP)


def test_the_enrolment_page_shows_a_qr_code_and_the_secret(client, agnes, required):
    sign_in(client, "agnes")

    response = client.get(SETUP)

    html = response.content.decode()
    assert response.status_code == 200
    assert "<svg" in html and "QR code" in html
    device = TOTPDevice.objects.get(user=agnes, confirmed=False)
    secret = b32encode(device.bin_key).decode()
    assert " ".join(secret[i : i + 4] for i in range(0, len(secret), 4)) in html
    # A reload shows the same secret (the app may already have scanned it).
    client.get(SETUP)
    assert TOTPDevice.objects.filter(user=agnes).count() == 1


def test_enrolment_needs_a_valid_code(client, agnes, required):
    sign_in(client, "agnes")
    client.get(SETUP)
    device = TOTPDevice.objects.get(user=agnes)
    wrong = f"{(int(code_for(device)) + 1) % 1_000_000:06d}"

    for code in [wrong, "", "abcdef"]:
        response = client.post(SETUP, {"code": code})
        assert response.status_code == 400
        assert client.get("/agent/imports/").url.startswith(SETUP)
    device.refresh_from_db()
    assert device.confirmed is False
    assert events(actions.AUTH_2FA_ENROLLED) == []

    response = client.post(SETUP, {"code": code_for(device), "next": "/agent/imports/"})

    assert response.url == "/agent/imports/"
    device.refresh_from_db()
    assert device.confirmed is True
    [event] = events(actions.AUTH_2FA_ENROLLED)
    assert (event.actor, event.target_id) == (agnes, str(agnes.pk))
    assert client.get("/agent/imports/").status_code == 200


def test_enrolled_staff_give_a_code_after_the_password(client, sam, required):
    device = enrolled(sam)

    response = sign_in(client, "sam", "/staff/audit/")

    assert response.url.startswith(VERIFY)
    assert client.get("/staff/audit/").url.startswith(VERIFY)
    wrong = client.post(VERIFY, {"code": "000000" if code_for(device) != "000000" else "111111"})
    assert wrong.status_code == 400
    assert "Wrong code" in wrong.content.decode()
    assert client.get("/staff/audit/").url.startswith(VERIFY)
    [failed] = events(actions.AUTH_LOGIN_FAILED)
    assert request_data(failed, wrong) == {"username": "sam", "channel": "web", "reason": "otp_invalid"}

    response = client.post(VERIFY, {"code": code_for(device), "next": "/staff/audit/"})

    assert response.url == "/staff/audit/"
    assert client.get("/staff/audit/").status_code == 200
    # One sign-in event (the password), not two.
    assert len(events(actions.AUTH_LOGIN)) == 1


def test_wrong_codes_count_towards_the_lockout(client, sam, required, settings):
    device = enrolled(sam)
    sign_in(client, "sam")
    wrong = "000000" if code_for(device) != "000000" else "111111"

    for _ in range(4):
        assert client.post(VERIFY, {"code": wrong}).status_code == 400
    response = client.post(VERIFY, {"code": wrong})

    assert response.url == LOGIN
    assert "_auth_user_id" not in client.session
    assert len(events(actions.AUTH_LOCKED_OUT)) == 1
    assert sign_in(client, "sam").status_code == 429


def test_the_staff_required_decorator_refuses_an_unverified_session(sam, required):
    enrolled(sam)

    @staff_required(supervisor=True)
    def page(request):
        return HttpResponse("supervisor page")

    request = RequestFactory().get("/elsewhere/")
    request.user = sam
    sam.is_verified = lambda: False
    assert page(request).url.startswith(VERIFY)
    sam.is_verified = lambda: True
    assert page(request).content == b"supervisor page"


def test_a_stream_or_json_request_gets_a_403_not_a_page(client, sam, required):
    enrolled(sam)
    sign_in(client, "sam")

    response = client.get("/staff/audit/stream/", headers={"accept": "text/event-stream"})

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "otp_required"


def test_customers_are_never_asked(client, alice, required):
    response = sign_in(client, "alice")

    assert response.url == "/"
    assert client.get("/app/").status_code == 200
    assert client.get(SETUP).status_code == 403


def test_with_2fa_off_staff_sign_in_with_the_password_only(client, sam, settings):
    settings.FLUX_REQUIRE_2FA = False
    enrolled(sam)

    response = sign_in(client, "sam", "/staff/audit/")

    assert response.url == "/staff/audit/"
    assert client.get("/staff/audit/").status_code == 200


def test_a_reset_makes_them_enrol_again(client, sam, agnes, required):
    device = enrolled(agnes)
    sign_in(client, "agnes")
    client.post(VERIFY, {"code": code_for(device)})
    assert client.get("/agent/imports/").status_code == 200

    assert staff_2fa_reset(actor=sam, user=agnes) == 1

    assert not TOTPDevice.objects.filter(user=agnes).exists()
    [event] = events(actions.AUTH_2FA_RESET)
    assert (event.actor, event.target_id, event.data["devices"]) == (sam, str(agnes.pk), 1)
    # The session verified with the removed device is no longer verified.
    assert client.get("/agent/imports/").url.startswith(SETUP)


# --- API ----------------------------------------------------------------------------------------


def token(username: str, **extra):
    return APIClient().post(TOKEN, {"username": username, "password": TEST_PASSWORD, **extra}, format="json")


def test_staff_api_tokens_need_a_valid_otp(sam, required):
    device = enrolled(sam)
    away_from_the_end_of_a_period(device)

    missing = token("sam")
    wrong = token("sam", otp="000000" if code_for(device) != "000000" else "111111")
    right = token("sam", otp=code_for(device))

    assert (missing.status_code, missing.json()["error"]["code"]) == (401, "otp_required")
    assert (wrong.status_code, wrong.json()["error"]["code"]) == (401, "otp_invalid")
    assert right.status_code == 200 and set(right.json()) == {"access", "refresh"}
    # A code works once: the same one again is refused; the next period's is accepted.
    assert token("sam", otp=code_for(device)).json()["error"]["code"] == "otp_invalid"
    assert token("sam", otp=code_for(device, step=1)).status_code == 200
    assert [e.data.get("reason") for e in events(actions.AUTH_LOGIN_FAILED)] == ["otp_required", "otp_invalid",
                                                                                "otp_invalid"]
    assert len(events(actions.AUTH_LOGIN)) == 2


def test_staff_without_a_device_cannot_get_a_token(agnes, required, snapshot):
    before = snapshot()

    response = token("agnes", otp="123456")

    assert (response.status_code, response.json()["error"]["code"]) == (401, "otp_required")
    assert "access" not in response.json()
    # Nothing changes but the audited refusal.
    after = snapshot()
    new_events = after.pop("audit_events")[len(before.pop("audit_events")):]
    assert after == before
    assert [action for _, action, _ in new_events] == [actions.AUTH_LOGIN_FAILED]
    assert not TOTPDevice.objects.filter(user=agnes).exists()


def test_a_wrong_password_is_still_not_authenticated_before_any_otp(sam, required):
    enrolled(sam)

    response = APIClient().post(TOKEN, {"username": "sam", "password": "wrong", "otp": "123456"}, format="json")

    assert (response.status_code, response.json()["error"]["code"]) == (401, "not_authenticated")


def test_customers_get_tokens_without_an_otp(alice, required):
    assert token("alice").status_code == 200


def test_with_2fa_off_staff_get_tokens_without_an_otp(sam, settings):
    settings.FLUX_REQUIRE_2FA = False
    enrolled(sam)

    assert token("sam").status_code == 200


def test_right_after_a_wrong_code_the_page_asks_to_wait(client, sam, settings):
    settings.FLUX_REQUIRE_2FA = True
    # django-otp's throttling (1 s after a wrong code by default), made long so a slow machine still
    # sends the next code within it.
    settings.OTP_TOTP_THROTTLE_FACTOR = 60
    device = enrolled(sam)
    sign_in(client, "sam")
    client.post(VERIFY, {"code": "000000" if code_for(device) != "000000" else "111111"})

    response = client.post(VERIFY, {"code": code_for(device)})

    assert response.status_code == 400
    assert "wait a few seconds" in response.content.decode()
    assert client.get("/staff/audit/").url.startswith(VERIFY)


def test_the_gate_holds_under_asgi_too(sam, settings):
    """Production serves ASGI: the middlewares then run in their async form."""
    from asgiref.sync import async_to_sync
    from django.test import AsyncClient

    settings.FLUX_REQUIRE_2FA = True
    device = enrolled(sam)
    client = AsyncClient()

    async def journey():
        await client.aforce_login(sam)
        refused = await client.get("/staff/audit/")
        stream = await client.get("/staff/audit/stream/", headers={"accept": "text/event-stream"})
        await client.post(VERIFY, {"code": code_for(device)})
        allowed = await client.get("/staff/audit/")
        return refused, stream, allowed

    refused, stream, allowed = async_to_sync(journey)()

    assert refused.status_code == 302 and refused.url.startswith(VERIFY)
    assert stream.status_code == 403
    assert allowed.status_code == 200
