"""Input that PostgreSQL refuses never becomes a 500: a NUL character anywhere in a query string is
400 (core.middleware.NullCharacterMiddleware), a date filter reaches the database in UTC and one
without a UTC equivalent is 400 (core.filters.MomentFormField), a sign-in form with a NUL is
a form error. Also: every method on an unknown /api/ path is the JSON 404, and an API view that
crashes under DEBUG answers the API's 500, never Django's technical page.

Run on PostgreSQL (DATABASE_URL): that is where these inputs failed the whole query."""

from __future__ import annotations

import logging
from datetime import UTC, timedelta, timezone

import pytest
from django.test import Client
from django.utils.http import urlencode

from audit.models import AuditEvent
from banking.services import deposit_create
from core.testing.api import bearer_client
from identity.api.views import MeView
from workspace.models import ImportBatch

pytestmark = pytest.mark.django_db

NUL_MESSAGE = "Null characters are not allowed."
OUT_OF_RANGE = "This date is out of range."
# Offsets Python accepts (up to 23:59) and PostgreSQL does not (past 15:59), at both ends of time.
EXTREME_MOMENTS = ["0001-01-01T00:00:00-23:59", "9999-12-31T00:00:00+23:59", "2026-01-01T00:00:00-16:00"]
# Moments with no UTC equivalent within Python's years 1 to 9999.
OUT_OF_RANGE_MOMENTS = ["0001-01-01T00:00:00+00:01", "9999-12-31T23:59:59-23:59"]


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def assert_validation_error(response, field: str, message: str) -> None:
    assert response.status_code == 400, response.content
    assert response["Content-Type"] == "application/json"
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert error["fields"][field] == [message]


def assert_bad_request_page(response) -> None:
    assert response.status_code == 400, response.content[:200]
    assert response["Content-Type"].startswith("text/html")
    html = response.content.decode()
    assert "Bad request" in html and "Nothing was done." in html


@pytest.fixture
def api_urls(alice_account) -> dict[str, str]:
    """The API's filtered lists, by who may read them."""
    return {
        "entries": f"/api/v1/accounts/{alice_account.pk}/entries/",
        "transfers": "/api/v1/transfers/",
        "audit": "/api/v1/audit/events/",
        "statement": f"/api/v1/accounts/{alice_account.pk}/statement/",
    }


# --- Dates ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("moment", EXTREME_MOMENTS)
@pytest.mark.parametrize("field", ["from", "to"])
@pytest.mark.parametrize("endpoint", ["entries", "transfers", "audit"])
def test_an_offset_postgresql_refuses_is_a_valid_filter(api_urls, alice, sam, endpoint, field, moment):
    client = bearer_client(sam if endpoint == "audit" else alice)

    response = client.get(f"{api_urls[endpoint]}?{urlencode({field: moment})}")

    assert response.status_code == 200, response.content


@pytest.mark.parametrize("moment", OUT_OF_RANGE_MOMENTS)
@pytest.mark.parametrize("field", ["from", "to"])
@pytest.mark.parametrize("endpoint", ["entries", "transfers", "audit"])
def test_a_moment_without_a_utc_equivalent_is_400(api_urls, alice, sam, endpoint, field, moment):
    client = bearer_client(sam if endpoint == "audit" else alice)

    response = client.get(f"{api_urls[endpoint]}?{urlencode({field: moment})}")

    assert_validation_error(response, field, OUT_OF_RANGE)


def test_the_first_day_of_year_one_starts_before_utc_can_say(alice, alice_account):
    """A date counts in the bank's time zone (Paris, 9 minutes ahead of UTC in year 1): 0001-01-01
    starts before UTC's year 1 and is refused as a start; as an end it is a real moment."""
    client = bearer_client(alice)
    url = f"/api/v1/accounts/{alice_account.pk}/entries/"

    assert_validation_error(client.get(f"{url}?from=0001-01-01"), "from", OUT_OF_RANGE)
    assert client.get(f"{url}?to=0001-01-01").status_code == 200
    assert client.get(f"{url}?to=9999-12-31").status_code == 200


def test_a_far_offset_still_means_the_same_instant(alice, alice_account, agnes):
    """from/to written at -20:00 (past PostgreSQL's limit) select exactly what the same instant in
    UTC selects: the entry is in from its own instant on, out one microsecond later."""
    deposit_create(initiator=agnes, account_id=alice_account.pk, amount=5_00)
    entry = alice_account.entries.order_by("-pk").first()
    far = timezone(timedelta(hours=-20))
    at = entry.created_at.astimezone(far)
    client = bearer_client(alice)
    url = f"/api/v1/accounts/{alice_account.pk}/entries/"

    def ids(**params) -> set[int]:
        response = client.get(f"{url}?{urlencode(params)}")
        assert response.status_code == 200, response.content
        return {row["id"] for row in response.json()["results"]}

    assert entry.pk in ids(**{"from": at.isoformat()})
    assert entry.pk not in ids(**{"from": (at + timedelta(microseconds=1)).isoformat()})
    assert entry.pk in ids(to=at.isoformat())
    assert entry.pk not in ids(to=(at - timedelta(microseconds=1)).isoformat())
    assert at.astimezone(UTC) == entry.created_at


def test_the_customers_history_page_refuses_an_out_of_range_date_with_its_form(alice, alice_account):
    client = signed_in(alice)
    page = f"/app/accounts/{alice_account.pk}/"

    accepted = client.get(f"{page}?{urlencode({'from': EXTREME_MOMENTS[0]})}")
    refused = client.get(f"{page}?{urlencode({'from': OUT_OF_RANGE_MOMENTS[0]})}")

    assert accepted.status_code == 200
    assert refused.status_code == 400
    assert OUT_OF_RANGE in refused.content.decode()


def test_the_audit_page_takes_extreme_dates_without_a_crash(sam):
    client = signed_in(sam)

    accepted = client.get(f"/staff/audit/?{urlencode({'from': EXTREME_MOMENTS[0]})}")
    refused = client.get(f"/staff/audit/?{urlencode({'to': OUT_OF_RANGE_MOMENTS[1]})}")

    assert accepted.status_code == 200
    assert refused.status_code < 500
    assert OUT_OF_RANGE in refused.content.decode()


# --- NUL characters -----------------------------------------------------------------------------


@pytest.mark.parametrize(("who", "path", "field"), [
    ("alice", "entries", "q"),
    ("alice", "transfers", "q"),
    ("alice", "transfers", "min"),
    ("agnes", "/api/v1/customers/", "q"),
    ("sam", "audit", "actor"),
    ("sam", "audit", "target_id"),
    ("agnes", "/api/v1/imports/", "status"),
    ("alice", "/api/v1/accounts/", "cursor"),
    ("alice", "statement", "month"),
])
def test_a_nul_in_an_api_query_is_400(request, api_urls, alice_account, who, path, field):
    client = bearer_client(request.getfixturevalue(who))
    url = api_urls.get(path, path)

    response = client.get(f"{url}?{field}=ab%00cd")

    assert_validation_error(response, field, NUL_MESSAGE)


def test_a_nul_in_a_query_name_is_400_too(alice):
    response = bearer_client(alice).get("/api/v1/accounts/?a%00b=1")

    assert_validation_error(response, "a\x00b", NUL_MESSAGE)


def test_a_nul_in_an_imports_file_name_is_400_and_stores_nothing(agnes):
    csv = b"type,account,amount,counterparty,reference\r\ndeposit,1,1.00,x,y\r\n"
    events = AuditEvent.objects.count()

    response = bearer_client(agnes).generic("POST", "/api/v1/imports/?file_name=a%00b.csv", csv,
                                            content_type="text/csv")

    assert_validation_error(response, "file_name", NUL_MESSAGE)
    assert not ImportBatch.objects.exists()
    assert AuditEvent.objects.count() == events


@pytest.mark.parametrize(("who", "url"), [
    ("agnes", "/agent/?q=ab%00"),
    ("agnes", "/agent/search/?q=ab%00"),
    ("agnes", "/agent/imports/?status=%00"),
    ("alice", "/app/accounts/{account}/?q=ab%00"),
    ("alice", "/app/statements/?month=%00"),
    ("sam", "/staff/audit/?actor=%00"),
    ("sam", "/staff/audit/?before=%00"),
])
def test_a_nul_in_a_page_query_is_the_400_page(request, alice_account, who, url):
    client = signed_in(request.getfixturevalue(who))

    response = client.get(url.format(account=alice_account.pk))

    assert_bad_request_page(response)


def test_the_400_page_is_in_the_visitors_language(agnes):
    response = signed_in(agnes).get("/agent/?q=ab%00", headers={"Accept-Language": "fr"})

    assert response.status_code == 400
    assert '<html lang="fr"' in response.content.decode()


@pytest.mark.parametrize("field", ["username", "password"])
def test_a_nul_in_the_sign_in_form_is_a_form_error_not_a_failed_sign_in(client, alice, field):
    form = {"username": "alice", "password": "not-the-password"} | {field: "ali\x00ce"}
    events = AuditEvent.objects.count()

    response = client.post("/login/", form)

    assert response.status_code == 200
    assert NUL_MESSAGE in response.content.decode()
    assert "_auth_user_id" not in client.session
    assert AuditEvent.objects.count() == events  # not a checked pair of credentials: nothing to audit


# --- Unknown API paths, every method ---------------------------------------------------------------


@pytest.mark.parametrize("method", ["get", "post", "put", "patch", "delete", "options", "head"])
@pytest.mark.parametrize("signed_in_as", [None, "alice"])
@pytest.mark.parametrize("path", ["/api/v1/nope", "/api/v1/nope/", "/api/v2/accounts/"])
def test_an_unknown_api_path_is_the_json_404_for_every_method(request, method, signed_in_as, path):
    user = request.getfixturevalue(signed_in_as) if signed_in_as else None
    client = bearer_client(user)
    client.enforce_csrf_checks = True  # as a browser-less caller meets it: no CSRF token

    response = getattr(client, method)(path, {"a": 1}, format="json") if method in {"post", "put", "patch"} \
        else getattr(client, method)(path)

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    if method != "head":
        assert response.json() == {"error": {"code": "not_found", "message": "Not found."}}


def test_an_unknown_api_path_is_the_json_404_for_a_signed_in_page_session_too(alice):
    """A browser with a session cookie and no CSRF token: still the 404, not the CSRF 403 page."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)

    response = client.post("/api/v1/nope/", {"a": "1"})

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


# --- A crash in the API under DEBUG ------------------------------------------------------------------


def crash(self, request, *args, **kwargs):
    raise RuntimeError("a bug, with a secret: /srv/flux/settings.py SECRET_KEY=xyz")


@pytest.mark.parametrize("debug", [True, False])
def test_an_api_crash_answers_the_json_500_without_a_traceback(alice, monkeypatch, settings, caplog, debug):
    settings.DEBUG = debug
    monkeypatch.setattr(MeView, "get", crash)
    client = bearer_client(alice)
    client.raise_request_exception = False

    with caplog.at_level(logging.ERROR, logger="django.request"):
        response = client.get("/api/v1/me/")

    assert response.status_code == 500
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"error": {"code": "server_error",
                                         "message": "Something went wrong on our side; nothing was applied."}}
    body = response.content.decode()
    assert "Traceback" not in body and "SECRET_KEY" not in body and "/srv/flux" not in body
    assert "no-store" in response["Cache-Control"]
    # Still logged as Django logs a crash: once, with the traceback.
    [record] = [r for r in caplog.records if r.name == "django.request" and r.levelno == logging.ERROR]
    assert record.exc_info and record.exc_info[0] is RuntimeError


def test_a_page_crash_under_debug_is_left_to_django(alice, monkeypatch, settings):
    """Only the API's answers change; a page's crash under DEBUG keeps Django's page (make run's
    developer wants it)."""
    from portal.views import profile

    settings.DEBUG = True
    monkeypatch.setattr(profile, "render", lambda *args, **kwargs: 1 / 0)
    client = signed_in(alice)
    client.raise_request_exception = False

    response = client.get("/app/profile/")

    assert response.status_code == 500
    assert response["Content-Type"].startswith("text/")
    assert "ZeroDivisionError" in response.content.decode()
