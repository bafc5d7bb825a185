from __future__ import annotations

from core.errors import ValidationFailed


def require_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed({"reason": ["Give a reason."]})
    if len(reason) > 500:
        raise ValidationFailed({"reason": ["Keep the reason under 500 characters."]})
    return reason
