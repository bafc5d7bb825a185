"""Assertions any app's tests use."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from core.errors import ApplicationError


@contextmanager
def refused(code: str) -> Iterator[pytest.ExceptionInfo[ApplicationError]]:
    with pytest.raises(ApplicationError) as excinfo:
        yield excinfo
    assert excinfo.value.code == code, repr(excinfo.value)
