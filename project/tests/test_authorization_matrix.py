"""The authorization matrix: every API route, every method its view answers, five callers.

The routes come from the URL configuration itself (project.urls, includes followed), so a new
endpoint cannot be left out: a route+method without a row in authz_matrix.MATRIX fails with a
message saying to add one, and a row whose route is gone fails too.

Each (route, method, caller) is its own test. Requests carry real JWTs (simplejwt's
RefreshToken.for_user, no sign-in round trip) and, unless they are GETs, a valid body and an
Idempotency-Key, so a 2xx means the operation really ran (and the test checks that something
changed). A GET changes nothing. A refusal follows the error shape and leaves everything as it was
(see `state`). A list of one's own things shows the owner's private things to the owner and none
of them to the other customer, even with its filters pointed at them.
"""

from __future__ import annotations

import uuid
from urllib.parse import urlencode

import pytest
from axes.models import AccessAttempt
from django.urls import URLPattern, URLResolver, get_resolver
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.test import APIClient
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken

from banking.models import Account, Beneficiary, Transaction, TransactionStatus
from banking.services import deposit_create
from core.idempotency import STORED_REFUSAL_STATUSES
from core.models import IdempotencyKey
from core.testing.api import bearer_client as signed_in_client
from identity.models import User
from notifications.models import Notification
from project.tests.authz_matrix import APPROVAL_THRESHOLD, CALLERS, MATRIX, World
from workspace.models import ImportBatch, ImportLine

API_PREFIX = "api/v1/"
# Methods every DRF view answers by itself (OPTIONS metadata, HEAD as GET): not in the matrix.
IMPLICIT_METHODS = {"options", "head"}
# A plain Django function view answers any method; these two stand for all of them.
FUNCTION_VIEW_METHODS = ("GET", "POST")
CODE_BY_STATUS = {400: "validation_error", 401: "not_authenticated", 403: "permission_denied", 404: "not_found",
                  # The one 422 of the matrix: an all-or-nothing batch from another customer's account.
                  422: "batch_refused"}


# --- The routes, from the URL configuration ---------------------------------------------------


def _walk(patterns, prefix: str = ""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _walk(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern), pattern.callback


def _methods(callback) -> tuple[str, ...]:
    view_class = getattr(callback, "cls", None) or getattr(callback, "view_class", None)
    if view_class is None:
        return FUNCTION_VIEW_METHODS
    return tuple(
        name.upper() for name in view_class.http_method_names
        if name not in IMPLICIT_METHODS and hasattr(view_class, name)
    )


def api_routes() -> list[tuple[str, tuple[str, ...]]]:
    """Every route under /api/ as (route relative to /api/v1/, methods), in URLconf order.
    The catch-all `^api/` keeps its regex as its name."""
    routes = []
    for route, callback in _walk(get_resolver().url_patterns):
        if not route.removeprefix("^").startswith("api/"):
            continue
        routes.append((route.removeprefix(API_PREFIX), _methods(callback)))
    return routes


ROUTES = api_routes()
CASES = [(route, method, caller) for route, methods in ROUTES for method in methods for caller in CALLERS]


def test_the_routes_were_found():
    """A guard on the walk itself: it sees nested includes and the public schema routes."""
    found = dict(ROUTES)
    assert found["accounts/<str:pk>/entries/"] == ("GET",)
    assert found["schema/"] == ("GET",) and found["docs/"] == ("GET",)
    assert "^api/" in found
    assert len(ROUTES) > 25


def test_no_route_is_shadowed():
    """Two routes with one pattern: the second view is unreachable and its row would test the first."""
    names = [route for route, _ in ROUTES]
    assert sorted({name for name in names if names.count(name) > 1}) == []


def test_no_row_outlives_its_route():
    found = {(route, method) for route, methods in ROUTES for method in methods}
    stale = sorted((route, method) for route, rows in MATRIX.items() for method in rows if (route, method) not in found)
    assert stale == [], f"rows in project/tests/authz_matrix.py MATRIX match no route or method any more: {stale}"


# --- The matrix -------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def matrix_settings(settings):
    settings.FLUX_APPROVAL_THRESHOLD = APPROVAL_THRESHOLD


@pytest.fixture
def world(db) -> World:
    return World()


def rows(model) -> list[dict]:
    return list(model.objects.order_by("pk").values())


def state(snapshot) -> dict:
    """What a refused request must leave alone: conftest's ledger snapshot (balances, holds,
    statuses, entries, transactions, audit events), every column of the objects a URL names
    (accounts, transactions, users, beneficiaries, import batches and lines), and the security
    records (revoked tokens, idempotency keys of operations done, lockouts, TOTP devices)."""
    return snapshot() | {
        "account_rows": rows(Account),
        "transaction_rows": rows(Transaction),
        "users": rows(User),
        "beneficiaries": rows(Beneficiary),
        "notifications": rows(Notification),
        "import_batches": rows(ImportBatch),
        "import_lines": rows(ImportLine),
        "blacklisted_tokens": rows(BlacklistedToken),
        # A refusal may be kept under its key (the answer a retry replays, core/idempotency.py);
        # a key of an operation done may not appear.
        "idempotency_keys": list(
            IdempotencyKey.objects.exclude(response_status__in=STORED_REFUSAL_STATUSES).order_by("pk").values()
        ),
        "lockouts": rows(AccessAttempt),
        "totp_devices": rows(TOTPDevice),
    }


def send(client: APIClient, method: str, call):
    url = f"/{API_PREFIX}{call.path}"
    if method == "GET":
        return client.get(url, call.query or {})
    headers = {"Idempotency-Key": str(uuid.uuid4())}
    if call.query:
        url = f"{url}?{urlencode(call.query)}"
    if isinstance(call.data, bytes):
        return client.generic(method, url, call.data, content_type=call.content_type, headers=headers)
    return getattr(client, method.lower())(url, call.data, format="json", headers=headers)


def assert_error_shape(response, code: str) -> None:
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    body = response.json()
    assert set(body) == {"error"}, body
    assert body["error"]["code"] == code, body
    assert isinstance(body["error"]["message"], str) and body["error"]["message"], body
    if code == "batch_refused":  # it says which items were refused, and why: another's account is not_found
        assert set(body["error"]) == {"code", "message", "items"}, body
        assert {item["code"] for item in body["error"]["items"]} == {"not_found"}, body
    else:
        assert set(body["error"]) <= {"code", "message", "fields"}, body


@pytest.mark.parametrize(("route", "method", "caller"), CASES, ids=[f"{m} {r} {c}" for r, m, c in CASES])
def test_authorization(route, method, caller, world, snapshot):
    row = MATRIX.get(route, {}).get(method)
    if row is None:
        pytest.fail(
            f"{method} /{API_PREFIX}{route} has no row in project/tests/authz_matrix.py MATRIX: add one with "
            f"the request that exercises it and the status each of {', '.join(CALLERS)} gets "
            "(DESIGN.md's API table says who may do what)."
        )
    call = row.call(world, caller)
    client = signed_in_client(world.user(caller))
    before = state(snapshot)

    response = send(client, method, call)

    expected = row.expect[caller]
    assert response.status_code == expected, (response.status_code, response.content[:500])
    if expected >= 400:
        assert_error_shape(response, CODE_BY_STATUS[expected])
    after = state(snapshot)
    if expected >= 400 or method == "GET":
        for part in before:
            assert after[part] == before[part], f"{part} changed by a {'refused' if expected >= 400 else 'GET'} request"
    else:
        assert after != before, "a 2xx that changed nothing: the row's request did not really run"
    if row.lists_own and caller in ("owner", "other"):
        shown = [private for private in world.owner_private if private in response.content.decode()]
        if caller == "owner":
            assert shown, "the owner's list shows none of their own things: the check below proves nothing"
        else:
            assert shown == [], f"another customer's list shows the owner's {shown}"


# --- "Who" that depends on the object, beyond the role ------------------------------------------


def refused_without_change(client: APIClient, url: str, data: dict | None, snapshot) -> None:
    before = state(snapshot)
    response = client.post(url, data, format="json", headers={"Idempotency-Key": str(uuid.uuid4())})
    assert response.status_code == 403, (response.status_code, response.content[:500])
    assert_error_shape(response, "permission_denied")
    after = state(snapshot)
    for part in before:
        assert after[part] == before[part], f"{part} changed by a refused request"



@pytest.mark.parametrize("decision", ["approve", "reject"])
def test_staff_do_not_decide_their_own_transaction(world, snapshot, decision):
    pending = deposit_create(initiator=world.agent, account_id=world.account.pk, amount=6_000_00, reference="Big")
    assert pending.status == TransactionStatus.PENDING
    refused_without_change(signed_in_client(world.agent), f"/{API_PREFIX}transactions/{pending.pk}/{decision}/",
                           {"reason": "Mine"}, snapshot)


def test_only_the_uploader_applies_an_import(world, snapshot):
    batch = world.import_batch("agent")
    refused_without_change(signed_in_client(world.supervisor), f"/{API_PREFIX}imports/{batch.pk}/apply/", None,
                           snapshot)


def test_only_a_supervisor_opens_an_account_with_an_overdraft(world, snapshot):
    """POST accounts/ is staff's (the matrix row), but its overdraft_limit is a supervisor's alone
    (issue 10, finding 1): an agent asking for one is refused and nothing is created."""
    body = {"customer": world.owner.pk, "kind": "checking", "overdraft_limit": "1000000.00"}
    refused_without_change(signed_in_client(world.agent), f"/{API_PREFIX}accounts/", body, snapshot)
    response = signed_in_client(world.supervisor).post(f"/{API_PREFIX}accounts/", body, format="json")
    assert response.status_code == 201, response.content[:500]
    assert Account.objects.get(pk=response.json()["id"]).overdraft_limit == 1_000_000_00
