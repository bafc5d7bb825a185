"""The web server as it is really started (bin/web: uvicorn for `make run`, gunicorn with uvicorn
workers for the image) trusts X-Forwarded-For exactly as FLUX_NUM_PROXIES says.

Each test starts the real server in a subprocess on the test database, sends a wrong sign-in from
127.0.0.1 with an X-Forwarded-For header, and reads the address django-axes recorded for it (the
same client address the rate limits count, core/http.py). uvicorn's own default trusts the header
from 127.0.0.1: started without bin/web, the first test records 1.2.3.4 instead of 127.0.0.1."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest
from axes.models import AccessAttempt
from django.conf import settings

from core.testing.nats import WebServer, database_url_for_subprocess, free_port, stop_process, wait_until

BASE_DIR = Path(settings.BASE_DIR)
WEB = str(BASE_DIR / "bin" / "web")
BIN = Path(sys.executable).parent


def server_command(server: str, port: int) -> list[str]:
    if server == "uvicorn":
        return [WEB, str(BIN / "uvicorn"), "project.asgi:application", "--host", "127.0.0.1", "--port", str(port)]
    return [WEB, str(BIN / "gunicorn"), "project.asgi:application", "--worker-class", "uvicorn_worker.UvicornWorker",
            "--workers", "1", "--bind", f"127.0.0.1:{port}", "--no-control-socket"]


def start(server: str, num_proxies: str) -> tuple[subprocess.Popen, int]:
    port = free_port()
    env = os.environ | {
        "DJANGO_SETTINGS_MODULE": "project.settings.test",
        "DATABASE_URL": database_url_for_subprocess(),
        "FLUX_NUM_PROXIES": num_proxies,
        "FLUX_SERVICE": "web",
    }
    process = subprocess.Popen(server_command(server, port), env=env, cwd=BASE_DIR,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)

    def accepting() -> bool:
        if process.poll() is not None:
            pytest.fail(f"{server} exited: {process.communicate()[0]}")
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/manifest.json", timeout=2)
            return True
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            return False

    wait_until(accepting, timeout=60, interval=0.2, message=f"{server} did not start")
    return process, port


def recorded_address(port: int, forwarded_for: str) -> str:
    """A wrong sign-in with this X-Forwarded-For: the address axes recorded for it."""
    username = f"probe-{uuid.uuid4().hex[:12]}"
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/v1/auth/token/",
        data=json.dumps({"username": username, "password": "wrong"}).encode(),
        headers={"Content-Type": "application/json", "X-Forwarded-For": forwarded_for},
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=30)
    assert refused.value.code == 401
    return AccessAttempt.objects.get(username=username).ip_address


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("server", ["uvicorn", "gunicorn"])
def test_with_no_proxy_the_forwarded_header_is_ignored(server):
    process, port = start(server, "0")
    try:
        assert recorded_address(port, "1.2.3.4") == "127.0.0.1"
    finally:
        print(stop_process(process))


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("server", ["uvicorn", "gunicorn"])
def test_behind_one_proxy_the_address_it_saw_counts(server):
    process, port = start(server, "1")
    try:
        assert recorded_address(port, "1.2.3.4") == "1.2.3.4"
        # The client wrote 6.6.6.6 itself; the one trusted proxy appended what it saw.
        assert recorded_address(port, "6.6.6.6, 1.2.3.4") == "1.2.3.4"
    finally:
        print(stop_process(process))


@pytest.mark.parametrize(("args", "env", "message"), [
    (["uvicorn"], {"FLUX_NUM_PROXIES": "one"}, "FLUX_NUM_PROXIES must be the number of proxies"),
    (["uvicorn"], {"FLUX_NUM_PROXIES": "-1"}, "FLUX_NUM_PROXIES must be the number of proxies"),
    (["hypercorn", "project.asgi:application"], {}, "start uvicorn or gunicorn"),
    # Without arguments it starts the default server (gunicorn): the check still comes first.
    ([], {"FLUX_NUM_PROXIES": "one"}, "FLUX_NUM_PROXIES must be the number of proxies"),
])
def test_the_launcher_refuses_what_it_cannot_honour(args, env, message):
    result = subprocess.run([WEB, *args], env=os.environ | env, capture_output=True, text=True, timeout=30)

    assert result.returncode == 64
    assert message in result.stderr


def test_every_way_of_starting_the_web_server_goes_through_the_launcher():
    procfile = {line.split(":", 1)[0]: line for line in (BASE_DIR / "Procfile").read_text().splitlines() if line}
    cmd = [line for line in (BASE_DIR / "Dockerfile").read_text().splitlines() if line.startswith("CMD ")]

    assert "bin/web" in procfile["web"].split()
    assert len(cmd) == 1 and json.loads(cmd[0][4:])[0] == "bin/web"
    assert os.access(WEB, os.X_OK)


def listening_sockets(port: int) -> int:
    """How many sockets listen on this TCP port (/proc/net/tcp: state 0A is LISTEN)."""
    lines = Path("/proc/net/tcp").read_text().splitlines()[1:]
    return sum(1 for line in lines if line.split()[1].endswith(f":{port:04X}") and line.split()[3] == "0A")


@pytest.mark.django_db(transaction=True)
def test_each_worker_listens_on_its_own_socket_and_a_second_server_is_refused_the_port():
    """On one shared socket, one worker's event loop could accept every connection of a burst
    (bin/web, --reuse-port). Sockets that reuse the port would let a second server share it
    silently: bin/web refuses to start on a port someone listens on."""
    server = WebServer(env={"WEB_CONCURRENCY": "3", "FLUX_LOG_SHIPPING": "0"}).start()
    try:
        wait_until(lambda: listening_sockets(server.port) == 3, timeout=30, interval=0.2,
                   message="three workers, three listening sockets")
        second = subprocess.run([WEB], env=os.environ | {"PORT": str(server.port), "FLUX_HOST": "127.0.0.1"},
                                capture_output=True, text=True, timeout=30)

        assert second.returncode != 0
        assert f"127.0.0.1:{server.port} is in use" in second.stderr
        assert listening_sockets(server.port) == 3
        assert urllib.request.urlopen(f"{server.url}/manifest.json", timeout=10).status == 200
    finally:
        server.stop()


def test_with_an_access_log_file_the_lines_go_there_and_not_to_the_console(tmp_path):
    """`make run` (Procfile) writes a line per request to var/log/access.log: through honcho's pipe,
    each cost honcho about 0.2 ms of CPU (issue 11). Warnings and errors stay on the console."""
    access_log = tmp_path / "log" / "access.log"  # bin/web makes the directory
    server = WebServer(env={"FLUX_ACCESS_LOG": "1", "FLUX_ACCESS_LOG_FILE": str(access_log),
                            "FLUX_LOG_SHIPPING": "0"}).start()
    try:
        request = urllib.request.Request(f"{server.url}/api/v1/nowhere/", headers={"X-Request-ID": "in-the-file"})
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=10)
        assert refused.value.code == 404
        wait_until(lambda: "in-the-file" in access_log.read_text(), timeout=10, message="the line in the file")
    finally:
        console = server.stop()
    [line] = [line for line in access_log.read_text().splitlines() if "in-the-file" in line]
    assert "flux.access [in-the-file] GET /api/v1/nowhere/ 404" in line
    assert f"a line per request in {access_log}" in console
    assert "GET /api/v1/nowhere/ 404" not in console
    assert "Not Found: /api/v1/nowhere/" in console  # Django's own warning stays on the console


@pytest.mark.django_db(transaction=True)
def test_by_default_two_workers_of_eight_connections():
    """bin/web's defaults (docs/operations/capacity.md, "Workers"): 2 workers of 8 connections,
    16 in all, when neither WEB_CONCURRENCY nor FLUX_DB_POOL_MAX is set."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("the pool is PostgreSQL's (set DATABASE_URL)")
    port = free_port()
    env = {name: value for name, value in os.environ.items() if name not in ("WEB_CONCURRENCY", "FLUX_DB_POOL_MAX")}
    env |= {"DJANGO_SETTINGS_MODULE": "project.settings.test", "DATABASE_URL": database_url_for_subprocess(),
            "PORT": str(port), "FLUX_HOST": "127.0.0.1", "PYTHON": sys.executable, "FLUX_LOG_SHIPPING": "0",
            "PROMETHEUS_MULTIPROC_DIR": str(BASE_DIR / "var" / "run" / "metrics" / f"web-{port}")}
    process = subprocess.Popen([WEB], env=env, cwd=BASE_DIR, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def pools_max() -> float:
        # Each request on a new connection: both workers answer some, each sampling its pool.
        for _ in range(10):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=5).read()
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                return 0
        metrics = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
        return sum(float(line.split()[-1]) for line in metrics.splitlines() if line.startswith("flux_db_pool_max"))

    try:
        wait_until(lambda: listening_sockets(port) == 2, timeout=60, interval=0.2, message="two workers")
        wait_until(lambda: pools_max() == 16, timeout=60, interval=1.1, message="two pools of eight")
        assert listening_sockets(port) == 2
    finally:
        stop_process(process)
