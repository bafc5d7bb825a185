"""Response examples of the audit API for the OpenAPI schema."""

from drf_spectacular.utils import OpenApiExample

AUDIT_EVENT = {
    "id": 1042, "seq": 977, "occurred_at": "2026-03-31T18:02:11Z", "actor": "alice",
    "action": "transaction.posted", "target_type": "transaction", "target_id": "88",
    "data": {"amount": "125.00", "currency": "EUR", "source": "NL20FLUX0000000017",
             "destination": "NL24FLUX0000000042"},
    "hash": "9f2c4e1ab0d84c7f3e6a5b2d1c0f9e8d7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d",
    "prev_hash": "4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c",
}
AUDIT_EVENT_EXAMPLES = [OpenApiExample("Event", value=AUDIT_EVENT, response_only=True, status_codes=["200"])]
VERDICT_EXAMPLES = [
    OpenApiExample("Intact", value={"ok": True, "checked": 977, "first_bad": None, "reason": ""},
                   response_only=True, status_codes=["200"]),
    OpenApiExample("Tampered", value={"ok": False, "checked": 412, "first_bad": 412,
                                      "reason": "The hash of row 412 does not match its contents."},
                   response_only=True, status_codes=["200"]),
]
