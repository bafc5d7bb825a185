"""Fixtures shared by the audit tests."""

from __future__ import annotations

import pytest

from core.testing.nats import free_port


@pytest.fixture
def nats_down(settings):
    """Settings pointing at a port where nothing listens."""
    settings.NATS_URL = f"nats://127.0.0.1:{free_port()}"
    settings.NATS_MONITOR_URL = f"http://127.0.0.1:{free_port()}"
