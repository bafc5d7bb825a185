"""Every error code Flux raises has its status in core.errors.STATUS_BY_CODE: a code missing there
would silently answer 400 (already_enrolled did)."""

from __future__ import annotations

import json
import re
from pathlib import Path

from django.conf import settings

from core.errors import STATUS_BY_CODE, ApplicationError, error_response

APPS = ("core", "audit", "identity", "banking", "portal", "workspace")
# ApplicationError("code", ...) and error_response("code", ...), the code on the same line or the next.
# server_error (500) answers what nothing else caught; it is never raised as a refusal.
EXEMPT = {"server_error"}
RAISED = re.compile(r'(?:ApplicationError|error_response)\(\s*"([a-z_]+)"')


def codes_in_source() -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for app in APPS:
        for path in (Path(settings.BASE_DIR) / app).rglob("*.py"):
            if "tests" in path.parts or "migrations" in path.parts:
                continue
            for code in RAISED.findall(path.read_text()):
                found.setdefault(code, []).append(str(path.relative_to(settings.BASE_DIR)))
    return found


def test_every_code_raised_has_its_status():
    found = codes_in_source()

    assert {"not_found", "insufficient_funds", "already_enrolled", "otp_required"} <= set(found)
    missing = {code: where for code, where in found.items() if code not in STATUS_BY_CODE and code not in EXEMPT}
    assert not missing, f"codes without a status in core.errors.STATUS_BY_CODE: {missing}"


def test_error_response_is_the_api_error_shape_with_the_codes_status():
    response = error_response("account_frozen", "Frozen.", fields=None)
    assert response.status_code == 409
    assert json.loads(response.content) == {"error": {"code": "account_frozen", "message": "Frozen."}}

    response = error_response("validation_error", "Not valid.", fields={"amount": ["Too big."]})
    assert response.status_code == 400
    expected = ApplicationError("validation_error", "Not valid.", fields={"amount": ["Too big."]}).as_body()
    assert json.loads(response.content) == expected

    assert error_response("otp_required", "Code first.", status=403).status_code == 403
