"""Fuzzing the API against its own live schema (schemathesis), in-process and on the test database.

Every operation under /api/v1/ gets a bounded number of generated requests (fixed seed), once as a
customer and once as an agent, each with a fresh Bearer token and a fresh Idempotency-Key. A 5xx, a
status code, content type or header the operation does not document, or a body that does not match
its documented schema fails the test.

Random ids would only ever meet 404s, so most generated ids (in the path and in bodies) are
swapped, by turns, for the ids of real objects: alice's and bob's accounts, a posted and
a pending transfer, a beneficiary, the customers and the staff. The requests then really move money,
freeze accounts and decide approvals, one after the other, on the same data."""

from __future__ import annotations

import itertools
import uuid

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from rest_framework_simplejwt.tokens import RefreshToken
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from banking import services
from banking.api.examples import ALICE_IBAN, BOB_IBAN
from banking.tests.factories import fund
from core.testing.api import bearer_client
from project.wsgi import application

schema = schemathesis.openapi.from_wsgi("/api/v1/schema/", application)

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
# About 100 operations x 2 callers x up to 10 examples: well under two minutes on two cores.
FUZZ = settings(
    max_examples=10,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                           HealthCheck.filter_too_much, HealthCheck.data_too_large],
)


@pytest.fixture
def in_process_db():
    """The WSGI handler closes the database connection around each request, which would end the
    test's transaction; Django's test client disconnects the same receivers for the same reason."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def known(alice, bob, alice_account, bob_account, agnes, sam) -> dict:
    """Real objects for the fuzzer to find, by path prefix and by body field."""
    fund(alice_account, 20_000_00, agent=agnes, approver=sam)
    beneficiary = services.beneficiary_create(customer=alice, name="Bob", iban=bob_account.iban)
    posted = services.transfer_create(
        initiator=alice, source_account_id=alice_account.pk, destination_iban=bob_account.iban,
        amount=25_00, reference="Rent",
    )
    pending = services.transfer_create(
        initiator=alice, source_account_id=alice_account.pk, destination_iban=bob_account.iban,
        amount=12_500_00, reference="Car",
    )
    accounts = [alice_account.pk, bob_account.pk]
    return {
        "turns": itertools.count(),
        "paths": {
            "/api/v1/accounts/": accounts,
            "/api/v1/transactions/": [posted.pk, pending.pk],
            "/api/v1/beneficiaries/": [beneficiary.pk],
            "/api/v1/customers/": [alice.pk, bob.pk],
            "/api/v1/staff/": [agnes.pk, sam.pk],
            "/api/v1/users/": [alice.pk, agnes.pk],
        },
        "body": {
            "source_account": accounts, "account": accounts, "customer": [alice.pk, bob.pk],
            "destination_iban": [bob_account.iban, alice_account.iban],
        },
    }


# The schema's examples (banking/api/examples.py) name objects of another database: always swapped.
PLACEHOLDERS = {"17", "42", ALICE_IBAN, BOB_IBAN}


def pick(generated: object, candidates: list, turn: int) -> object:
    """By turns: each of `candidates`, then the generated value itself (an example's id is always
    swapped). The turns follow the order of the calls, which the fixed seed fixes."""
    if str(generated) in PLACEHOLDERS:
        return candidates[turn % len(candidates)]
    choice = turn % (len(candidates) + 1)
    return candidates[choice] if choice < len(candidates) else generated


def aim(case, known: dict) -> None:
    turn = next(known["turns"])
    path_id = (case.path_parameters or {}).get("id")
    if path_id is not None:
        for prefix, ids in known["paths"].items():
            if case.path.startswith(prefix):
                case.path_parameters["id"] = pick(path_id, ids, turn)
    if isinstance(case.body, dict):
        for field, values in known["body"].items():
            if field in case.body:
                case.body[field] = pick(case.body[field], values, turn)


def call_and_check(case, user, known: dict) -> None:
    aim(case, known)
    access = RefreshToken.for_user(user).access_token
    headers = {"Authorization": f"Bearer {access}", "Idempotency-Key": str(uuid.uuid4())}
    case.call_and_validate(headers=headers, checks=CHECKS)


@schema.parametrize()
@FUZZ
def test_fuzz_as_customer(case, db, in_process_db, known, alice):
    call_and_check(case, alice, known)


@schema.parametrize()
@FUZZ
def test_fuzz_as_agent(case, db, in_process_db, known, agnes):
    call_and_check(case, agnes, known)


# The operations only a supervisor may call (for anyone else they are a 403, already fuzzed above),
# and opening an account, whose overdraft_limit only a supervisor may set (an agent's is a 403).
supervisor_only = schema.include(path_regex=r"^/api/v1/(audit/|staff/|users/|accounts/$)|/overdraft/$")


@supervisor_only.parametrize()
@FUZZ
def test_fuzz_as_supervisor(case, db, in_process_db, known, sam):
    call_and_check(case, sam, known)


# --- Hostile values, every query parameter and every JSON body of the live schema ----------------
# Random generation rarely lands on these (a NUL character; an offset PostgreSQL refuses; a moment
# at the edge of Python's years 1 to 9999), and each used to be a 500 on PostgreSQL. Every query
# parameter of every GET gets each of them, and every JSON body a NUL in each of its string fields.

NUL_VALUES = ["\x00", "ab\x00cd"]
EXTREME_MOMENTS = ["0001-01-01T00:00:00-23:59", "0001-01-01T00:00:00+23:59", "9999-12-31T23:59:59-23:59",
                   "9999-12-31T00:00:00+23:59", "2026-06-01T12:00:00-16:00", "0001-01-01", "9999-12-31"]


def live_schema(client) -> dict:
    response = client.get("/api/v1/schema/", {"format": "json"})
    assert response.status_code == 200
    return response.json()


def concrete_path(path: str, known: dict) -> str:
    """The path with its {id} swapped for a real object's, where the fuzzer knows one."""
    for prefix, ids in known["paths"].items():
        if path.startswith(prefix):
            return path.replace("{id}", str(ids[0]))
    return path.replace("{id}", "1")


def resolve(schema: dict, node: dict) -> dict:
    while "$ref" in node:
        node = schema["components"]["schemas"][node["$ref"].rsplit("/", 1)[1]]
    return node


def assert_not_a_crash(response, what: str) -> None:
    assert response.status_code < 500, f"{what}: {response.status_code} {response.content[:300]!r}"


@pytest.mark.parametrize("who", ["alice", "sam"])
def test_hostile_query_values_are_refused_or_served_never_a_crash(request, client, known, unchanged, who):
    api = bearer_client(request.getfixturevalue(who))
    schema = live_schema(client)
    tried = 0
    with unchanged():
        for path, operations in schema["paths"].items():
            get = operations.get("get")
            if get is None:
                continue
            url = concrete_path(path, known)
            for name in (p["name"] for p in get.get("parameters", []) if p["in"] == "query"):
                for value in NUL_VALUES + (EXTREME_MOMENTS if name in {"from", "to"} else []):
                    response = api.get(url, {name: value})
                    tried += 1
                    what = f"GET {url}?{name}={value!r} as {who}"
                    assert_not_a_crash(response, what)
                    if "\x00" in value:
                        assert response.status_code == 400, what
                        assert response.json()["error"]["fields"][name] == ["Null characters are not allowed."], what
                    elif response.status_code == 400:
                        assert set(response.json()["error"]["fields"]) == {name}, what
    assert tried > 100  # the schema was really walked


def string_fields(schema: dict, operation: dict) -> list[str]:
    content = operation.get("requestBody", {}).get("content", {}).get("application/json")
    if content is None:
        return []
    body = resolve(schema, content["schema"])
    return [name for name, field in body.get("properties", {}).items()
            if resolve(schema, field).get("type") == "string" and not field.get("readOnly")]


@pytest.mark.parametrize("who", ["alice", "agnes", "sam"])
def test_a_nul_in_every_string_field_of_every_json_body_is_refused_and_changes_nothing(
    request, client, known, unchanged, who
):
    user = request.getfixturevalue(who)
    schema = live_schema(client)
    tried = 0
    with unchanged():
        for path, operations in schema["paths"].items():
            for method, operation in operations.items():
                fields = string_fields(schema, operation)
                if not fields:
                    continue
                api = bearer_client(user)  # a fresh token each time: auth/logout/ must not end the run
                url = concrete_path(path, known)
                body = dict.fromkeys(fields, "ab\x00cd")
                response = getattr(api, method)(url, body, format="json",
                                                headers={"Idempotency-Key": str(uuid.uuid4())})
                tried += 1
                what = f"{method.upper()} {url} {sorted(fields)} as {who}"
                assert_not_a_crash(response, what)
                assert 400 <= response.status_code < 500, what
    assert tried > 15
