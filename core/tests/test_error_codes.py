"""Every error code Flux raises is in core.errors.ErrorCode, with its status and its sentence for a
person: a code missing there would answer nothing but a ValueError (before the enum, it silently
answered 400, as already_enrolled did)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import translation
from django.utils.functional import Promise

from core.errors import ApplicationError, ErrorCode, error_response

APPS = ("core", "audit", "identity", "banking", "portal", "workspace")
# ApplicationError("code", ...) and error_response("code", ...), the code on the same line or the next;
# ErrorCode.NAME anywhere.
RAISED = re.compile(r'(?:ApplicationError|error_response)\(\s*"([a-z_]+)"')
NAMED = re.compile(r"ErrorCode\.([A-Z_]+)\b")


def codes_in_source() -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """The codes raised as strings, and the ErrorCode members named, each with where."""
    raised: dict[str, list[str]] = {}
    named: dict[str, list[str]] = {}
    for app in APPS:
        for path in (Path(settings.BASE_DIR) / app).rglob("*.py"):
            if "tests" in path.parts or "migrations" in path.parts:
                continue
            text = path.read_text()
            where = str(path.relative_to(settings.BASE_DIR))
            for code in RAISED.findall(text):
                raised.setdefault(code, []).append(where)
            for name in NAMED.findall(text):
                named.setdefault(name, []).append(where)
    return raised, named


def test_every_code_raised_is_in_the_enum():
    raised, named = codes_in_source()

    assert {"not_found", "insufficient_funds", "already_enrolled", "otp_required"} <= set(raised)
    missing = {code: where for code, where in raised.items() if code not in {known.value for known in ErrorCode}}
    assert not missing, f"codes raised but missing from core.errors.ErrorCode: {missing}"
    unknown = {name: where for name, where in named.items() if name not in ErrorCode.__members__}
    assert not unknown, f"ErrorCode members named but not defined: {unknown}"


def test_an_unknown_code_fails_loudly_rather_than_answering_400():
    with pytest.raises(ValueError, match="some_new_code"):
        ApplicationError("some_new_code", "?")
    with pytest.raises(ValueError, match="some_new_code"):
        error_response("some_new_code", "?")


def test_every_code_has_a_status_and_a_translated_sentence():
    for code in ErrorCode:
        assert code == code.value and re.fullmatch(r"[a-z_]+", code.value), code
        assert 400 <= code.status <= 599, code
        assert isinstance(code.message, Promise), f"{code}: its message is not translated (gettext_lazy)"
        with translation.override("en"):  # whatever language an earlier test left active
            english = str(code.message)
        assert english.endswith(".") and english[0].isupper(), (code, english)
        with translation.override("fr"):
            assert str(code.message) != english, f"{code}: no French for {english!r} in locale/fr"


# DESIGN.md's codes and statuses, spelled as the API sends them: renaming one breaks integrators.
CONTRACT = {
    "validation_error": 400, "idempotency_key_missing": 400, "not_authenticated": 401, "otp_required": 401,
    "otp_invalid": 401, "permission_denied": 403, "approval_limit_exceeded": 403, "not_found": 404,
    "method_not_allowed": 405, "not_acceptable": 406, "request_too_large": 413, "unsupported_media_type": 415,
    "account_frozen": 409, "account_closed": 409, "account_not_frozen": 409, "account_not_empty": 409,
    "not_pending": 409, "not_posted": 409, "already_reversed": 409, "not_reversible": 409, "already_enrolled": 409,
    "not_open": 409,
    "insufficient_funds": 422, "same_account": 422, "currency_mismatch": 422, "invalid_iban": 422,
    "unknown_account": 422, "idempotency_key_reused": 422, "batch_refused": 422, "nothing_to_clear": 422,
    "throttled": 429,
    "locked_out": 429, "server_error": 500, "error": 500, "service_unavailable": 503,
}


@pytest.mark.parametrize(("code", "status"), CONTRACT.items())
def test_the_codes_and_their_statuses_are_the_api_contract(code, status):
    assert ErrorCode(code).status == status
    assert ApplicationError(code, "message").status == status


def test_the_enum_has_no_code_beyond_the_contract():
    assert {code.value for code in ErrorCode} == set(CONTRACT)


def test_a_message_defaults_to_the_codes_sentence_in_the_active_language():
    assert ApplicationError("insufficient_funds").message == "There is not enough money available on this account."
    with translation.override("fr"):
        error = ApplicationError(ErrorCode.INSUFFICIENT_FUNDS)
    assert error.message == "Le disponible de ce compte est insuffisant."
    assert error.as_body() == {"error": {"code": "insufficient_funds", "message": error.message}}
    assert type(error.as_body()["error"]["code"]) is str


def test_error_response_is_the_api_error_shape_with_the_codes_status():
    response = error_response("account_frozen", "Frozen.", fields=None)
    assert response.status_code == 409
    assert json.loads(response.content) == {"error": {"code": "account_frozen", "message": "Frozen."}}

    response = error_response("validation_error", "Not valid.", fields={"amount": ["Too big."]})
    assert response.status_code == 400
    expected = ApplicationError("validation_error", "Not valid.", fields={"amount": ["Too big."]}).as_body()
    assert json.loads(response.content) == expected

    assert error_response("otp_required", "Code first.", status=403).status_code == 403
