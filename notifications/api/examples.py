from drf_spectacular.utils import OpenApiExample

NOTIFICATION = {
    "id": 31, "kind": "money_in", "title": "Money received", "body": "Alice Liddell sent you 12.34\u00a0EUR.",
    "transaction": 88, "created_at": "2026-04-01T10:00:00Z", "read_at": None,
}

NOTIFICATION_EXAMPLES = [OpenApiExample("Money received", value=NOTIFICATION, response_only=True,
                                        status_codes=["200"])]
READ_EXAMPLES = [OpenApiExample("Read", value={**NOTIFICATION, "read_at": "2026-04-01T10:05:00Z"},
                                response_only=True, status_codes=["200"])]
READ_ALL_EXAMPLES = [OpenApiExample("Read all", value={"read": 3}, response_only=True, status_codes=["200"])]
