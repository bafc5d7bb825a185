"""DRF serializers whose fields are built once per process, for the requests that move money.

A serializer builds its fields every time it is instantiated: a ModelSerializer derives them from
the model again, a plain one deep-copies its declared fields. On POST transfers/ that cost more CPU
than the transfer's SQL (issue 11: 1.5 ms of 12 for the answer's TransactionSerializer, py-spy).
Here one instance per serializer class (and context) is kept, its fields bound once, and only its
stateless methods are called: `run_validation` (what `is_valid` runs) and `to_representation`
(what `.data` runs). Neither stores anything on the instance, so threads may share it. The
answers and the errors are the same as from a fresh instance (banking/tests/test_api_serializers.py).
"""

from __future__ import annotations

import functools
from typing import Any

from rest_framework import serializers
from rest_framework.exceptions import ErrorDetail
from rest_framework.settings import api_settings


@functools.cache
def _shared(serializer_class: type[serializers.BaseSerializer], context: tuple) -> serializers.BaseSerializer:
    serializer = serializer_class(context=dict(context))
    serializer.fields  # noqa: B018  (built and bound here, once)
    return serializer


def validated(serializer_class: type[serializers.Serializer], data: Any) -> dict:
    """`serializer_class(data=data)`'s validated_data, or the ValidationError that
    `is_valid(raise_exception=True)` raises."""
    try:
        return _shared(serializer_class, ()).run_validation(data)
    except serializers.ValidationError as exc:
        errors = serializers.as_serializer_error(exc)
        [*non_field] = errors.get(api_settings.NON_FIELD_ERRORS_KEY, [])
        if len(errors) == 1 and len(non_field) == 1 and getattr(non_field[0], "code", None) == "null":
            # As Serializer.errors says it when the body is JSON null.
            errors = {api_settings.NON_FIELD_ERRORS_KEY: [ErrorDetail("No data provided", code="null")]}
        raise serializers.ValidationError(errors) from None


def represented(serializer_class: type[serializers.Serializer], instance: Any, **context: Any) -> dict:
    """`serializer_class(instance, context=context).data`. The context's values must be hashable."""
    return _shared(serializer_class, tuple(sorted(context.items()))).to_representation(instance)
