"""The OpenAPI schema: generated without a warning, valid OpenAPI 3, and complete. Every /api/v1/
route and method of the URL configuration is in it (a new endpoint cannot be left undocumented),
every error is documented in the error envelope, and every request that moves money documents its
Idempotency-Key."""

from __future__ import annotations

import inspect
import json
import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from drf_spectacular.drainage import GENERATOR_STATS
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from drf_spectacular.validation import validate_schema
from openapi_spec_validator import validate as validate_openapi

from core.api.idempotency import HEADER
from core.api.schema import ERROR_COMPONENT, REPLAYED_HEADER

API_PREFIX = "/api/v1/"
# The schema and its browsable docs describe the API; they are not part of it.
NOT_API = {"/api/v1/schema/", "/api/v1/docs/"}
OPERATIONS = {"get", "post", "put", "patch", "delete"}
ERROR_REF = f"#/components/schemas/{ERROR_COMPONENT}"


@pytest.fixture(scope="module")
def generated() -> tuple[dict, dict]:
    """The schema as `manage.py spectacular` builds it, as plain JSON, and the generator's warnings
    and errors."""
    GENERATOR_STATS.reset()
    schema = SchemaGenerator().get_schema(request=None, public=True)
    problems = {"warnings": dict(GENERATOR_STATS._warn_cache), "errors": dict(GENERATOR_STATS._error_cache)}
    GENERATOR_STATS.reset()
    return json.loads(OpenApiJsonRenderer().render(schema, renderer_context={})), problems


@pytest.fixture(scope="module")
def schema(generated) -> dict:
    return generated[0]


def api_routes() -> list[tuple[str, type]]:
    """(OpenAPI path, view class) for every route under /api/v1/ in the URL configuration, read from
    Django's resolver, independently of drf-spectacular."""
    found: list[tuple[str, type]] = []

    def walk(patterns, prefix: str) -> None:
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, route)
            elif isinstance(pattern, URLPattern) and hasattr(pattern.callback, "cls"):
                path = "/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route).replace("{pk}", "{id}")
                if path.startswith(API_PREFIX) and path not in NOT_API:
                    found.append((path, pattern.callback.cls))

    walk(get_resolver().url_patterns, "")
    return found


def methods_of(view_class: type) -> set[str]:
    return {method for method in OPERATIONS if hasattr(view_class, method)}


def test_the_schema_is_generated_without_warnings_or_errors(generated):
    assert generated[1] == {"warnings": {}, "errors": {}}


def test_the_schema_is_valid_openapi_3(schema):
    assert schema["openapi"].startswith("3.")
    validate_openapi(schema)  # openapi-spec-validator, against the OpenAPI 3 meta-schema
    validate_schema(schema)  # drf-spectacular's own check (what `spectacular --validate` runs)


def test_the_url_configuration_has_api_routes():
    # Guards the completeness tests below against an enumeration that finds nothing.
    paths = {path for path, _ in api_routes()}
    assert {"/api/v1/transfers/", "/api/v1/accounts/{id}/statement/", "/api/v1/auth/token/"} <= paths


@pytest.mark.parametrize(("path", "view_class"), api_routes(), ids=[path for path, _ in api_routes()])
def test_every_route_and_method_is_documented(schema, path, view_class):
    documented = set(schema["paths"].get(path, {})) & OPERATIONS
    assert documented == methods_of(view_class), f"{path}: the schema and the view disagree on methods"


def operations(schema):
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            if method in OPERATIONS:
                yield path, method, operation


def test_every_operation_has_a_summary_and_a_success_response(schema):
    missing = [f"{method} {path}" for path, method, operation in operations(schema) if not operation.get("summary")]
    assert missing == []
    for path, method, operation in operations(schema):
        assert any(code.startswith("2") for code in operation["responses"]), f"{method} {path}"


def test_every_error_response_uses_the_error_envelope_with_an_example(schema):
    for path, method, operation in operations(schema):
        for code, response in operation["responses"].items():
            if not code.startswith(("4", "5")):
                continue
            content = response["content"]["application/json"]
            assert content["schema"] == {"$ref": ERROR_REF}, f"{method} {path} {code}"
            examples = content["examples"].values()
            assert examples and all(example["value"]["error"]["code"] for example in examples)


def test_every_operation_documents_authentication_and_rate_limit_errors(schema):
    for path, method, operation in operations(schema):
        responses = operation["responses"]
        assert "401" in responses, f"{method} {path}"
        assert "Retry-After" in responses["429"]["headers"], f"{method} {path}"
        assert "Retry-After" in responses["503"]["headers"], f"{method} {path}"
        if "requestBody" in operation:
            assert "413" in responses, f"{method} {path}"


def test_the_error_envelope_is_a_component(schema):
    envelope = schema["components"]["schemas"][ERROR_COMPONENT]
    assert envelope["required"] == ["error"]
    error = schema["components"]["schemas"]["Error"]
    # `items` only for batch_refused (POST transfers/batch/ with atomic: true).
    assert set(error["properties"]) == {"code", "message", "fields", "items"}
    assert set(error["required"]) == {"code", "message"}


def test_token_endpoints_need_no_authentication(schema):
    for path in ("/api/v1/auth/token/", "/api/v1/auth/token/refresh/"):
        assert schema["paths"][path]["post"].get("security") in (None, [], [{}]), path
    assert schema["paths"]["/api/v1/me/"]["get"]["security"] == [{"jwtAuth": []}]


def idempotent_posts() -> list[tuple[str, bool]]:
    """(path, key required) for every POST whose view runs through `idempotent_response`: the
    views that move money. Found in the code, so a new one cannot be missed."""
    found = []
    for path, view_class in api_routes():
        post = getattr(view_class, "post", None)
        source = inspect.getsource(post) if post else ""
        if "idempotent_response(" in source:
            found.append((path, "required=False" not in source))
    return found


def test_the_money_moving_posts_are_found():
    assert dict(idempotent_posts()) == {
        "/api/v1/transfers/": True,
        "/api/v1/transfers/batch/": True,
        "/api/v1/clearing/runs/": True,
        "/api/v1/deposits/": True,
        "/api/v1/withdrawals/": True,
        "/api/v1/transactions/{id}/approve/": False,
        "/api/v1/transactions/{id}/reject/": False,
        "/api/v1/transactions/{id}/cancel/": False,
        "/api/v1/transactions/{id}/reverse/": False,
        "/api/v1/clearing/suspense/{id}/assign/": True,
        "/api/v1/clearing/suspense/{id}/send-back/": True,
        "/api/v1/clearing/statements/": True,
    }


@pytest.mark.parametrize(("path", "required"), idempotent_posts())
def test_every_post_that_moves_money_documents_the_idempotency_key(schema, path, required):
    operation = schema["paths"][path]["post"]
    headers = {p["name"]: p for p in operation["parameters"] if p["in"] == "header"}
    assert HEADER in headers, path
    assert headers[HEADER].get("required", False) is required, path
    success = next(response for code, response in operation["responses"].items() if code.startswith("2"))
    assert REPLAYED_HEADER in success["headers"], path
    reused = operation["responses"]["422"]["content"]["application/json"]["examples"].values()
    assert "idempotency_key_reused" in {example["value"]["error"]["code"] for example in reused}, path


def test_statements_are_documented_as_csv_and_pdf(schema):
    content = schema["paths"]["/api/v1/accounts/{id}/statement/"]["get"]["responses"]["200"]["content"]
    assert set(content) == {"text/csv", "application/pdf"}


def test_lists_are_documented_as_pages(schema):
    page = schema["paths"]["/api/v1/transfers/"]["get"]["responses"]["200"]["content"]["application/json"]
    component = page["schema"]["$ref"].rsplit("/", 1)[-1]
    assert {"results", "next", "previous"} <= set(schema["components"]["schemas"][component]["properties"])
    assert page["examples"], "a list example, wrapped in its page"


def test_the_schema_is_served_to_anyone(client):
    response = client.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    assert response.json()["paths"].keys() >= {"/api/v1/transfers/", "/api/v1/auth/token/"}
