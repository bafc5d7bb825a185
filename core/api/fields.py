from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.money import AmountError, format_minor, parse_amount


@extend_schema_field(
    {"type": "string", "pattern": r"^-?\d{1,13}(\.\d{1,2})?$", "example": "12.50",
     "description": "A decimal string in the account's currency; never a number."}
)
class AmountField(serializers.Field):
    """A money amount: a decimal string at the edge ("12.50"), integer minor units inside."""

    default_error_messages = {"invalid": "{message}"}

    def __init__(self, *, allow_zero: bool = False, **kwargs):
        self.allow_zero = allow_zero
        super().__init__(**kwargs)

    def to_internal_value(self, data) -> int:
        try:
            return parse_amount(data, allow_zero=self.allow_zero)
        except AmountError as exc:
            self.fail("invalid", message=str(exc))

    def to_representation(self, value: int) -> str:
        return format_minor(value)
