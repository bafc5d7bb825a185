"""A process that shipped a log record to NATS must still be able to exit."""

import os
import subprocess
import sys

import pytest

from core.testing.nats import BASE_DIR

SCRIPT = """
import logging, time, django
django.setup()
from audit.logshipping import NatsLogHandler
handler = NatsLogHandler(service="exit")
logger = logging.getLogger("flux.test.exit")
logger.addHandler(handler)
logger.warning("about to exit")
deadline = time.monotonic() + 5
while handler.shipped < 1 and time.monotonic() < deadline:
    time.sleep(0.05)
print("shipped", handler.shipped, flush=True)
"""


def test_a_process_that_shipped_logs_exits(nats_server):
    env = os.environ | {"DJANGO_SETTINGS_MODULE": "project.settings.test", "NATS_URL": nats_server.url}
    process = subprocess.Popen([sys.executable, "-c", SCRIPT], env=env, cwd=BASE_DIR,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        output, _ = process.communicate(timeout=8)
    except subprocess.TimeoutExpired:
        process.kill()
        output, _ = process.communicate()
        pytest.fail(f"the process hung at exit after shipping its logs: {output!r}")
    assert "shipped 1" in output
    assert process.returncode == 0
