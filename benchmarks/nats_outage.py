"""An outage drill against a running `make run`: concurrent clients move money through the API
while NATS is down, then NATS comes back and the audit API is compared with what the clients were
told. Prints figures; exits non-zero when an event is missing or doubled or the chain fails.

    make run                                   # in another terminal (demo data, port 8000)
    .venv/bin/python benchmarks/nats_outage.py --outage 20 --clients 8

It stops the bundled nats-server the way bin/nats-dev allows (var/nats/down holds it down), so
run it from the directory where `make run` runs. Standard library only."""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

DOWN_FILE = Path.cwd() / "var" / "nats" / "down"  # bin/nats-dev's hold, relative to `make run`
PASSWORD = "flux-demo-2026"


class Api:
    def __init__(self, base: str, username: str) -> None:
        self.base = base.rstrip("/") + "/api/v1"
        self.username = username
        self.access = ""
        self.token_at = 0.0

    def _bearer(self) -> str:
        if time.monotonic() - self.token_at > 240:  # access tokens live 5 minutes
            self.access = self._send("POST", "/auth/token/", {"username": self.username, "password": PASSWORD},
                                     {})["access"]
            self.token_at = time.monotonic()
        return f"Bearer {self.access}"

    def call(self, method: str, path: str, body: dict | None = None, headers: dict | None = None) -> dict:
        return self._send(method, path, body, {"Authorization": self._bearer(), **(headers or {})})

    def _send(self, method: str, path: str, body: dict | None, headers: dict) -> dict:
        request = urllib.request.Request(
            path if path.startswith("http") else self.base + path,
            method=method,
            data=json.dumps(body).encode() if body is not None else None,
            headers={"Content-Type": "application/json", **headers},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.load(response)


def nats_pids() -> list[int]:
    found = subprocess.run(["pgrep", "-f", "nats-server.*-p 4333"], capture_output=True, text=True)
    return [int(pid) for pid in found.stdout.split()]


def stop_nats() -> None:
    DOWN_FILE.parent.mkdir(parents=True, exist_ok=True)
    DOWN_FILE.touch()
    for pid in nats_pids():
        subprocess.run(["kill", str(pid)], check=False)
    deadline = time.monotonic() + 10
    while nats_pids() and time.monotonic() < deadline:
        time.sleep(0.1)
    if nats_pids():
        sys.exit("nats-server did not stop")


def start_nats() -> None:
    DOWN_FILE.unlink(missing_ok=True)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else 0.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--outage", type=float, default=20.0, help="seconds NATS stays down")
    parser.add_argument("--before", type=float, default=5.0, help="seconds of traffic before the outage")
    parser.add_argument("--after", type=float, default=5.0, help="seconds of traffic after NATS is back")
    args = parser.parse_args()

    if not nats_pids():
        sys.exit("no nats-server on port 4333: start `make run` first")
    supervisor = Api(args.url, "sam")
    payers = {name: Api(args.url, name) for name in ("alice", "bob")}
    accounts = {name: api.call("GET", "/accounts/")["results"] for name, api in payers.items()}
    checking = {name: next(a for a in found if a["kind"] == "checking") for name, found in accounts.items()}

    phase = {"name": "before"}
    told: list[dict] = []  # what each client was told: transaction id, status, phase, seconds
    refused: list[str] = []
    lock = threading.Lock()
    stop = threading.Event()

    def client(number: int) -> None:
        payer, payee = ("alice", "bob") if number % 2 == 0 else ("bob", "alice")
        api = Api(args.url, payer)
        while not stop.is_set():
            started = time.perf_counter()
            current = phase["name"]
            try:
                answer = api.call(
                    "POST", "/transfers/",
                    {"source_account": checking[payer]["id"], "destination_iban": checking[payee]["iban"],
                     "amount": "0.01", "reference": f"outage drill {number}"},
                    {"Idempotency-Key": str(uuid.uuid4())},
                )
            except urllib.error.HTTPError as error:
                with lock:
                    refused.append(f"{error.code} {error.read()[:200]!r}")
                continue
            with lock:
                told.append({"id": answer["id"], "status": answer["status"], "phase": current,
                             "seconds": time.perf_counter() - started})

    workers = [threading.Thread(target=client, args=(n,), daemon=True) for n in range(args.clients)]
    for worker in workers:
        worker.start()
    time.sleep(args.before)
    phase["name"] = "outage"
    stop_nats()
    print(f"NATS stopped; {args.clients} clients keep moving money for {args.outage:.0f} s")
    time.sleep(args.outage)
    phase["name"] = "after"
    start_nats()
    deadline = time.monotonic() + 30
    while not nats_pids() and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(args.after)
    stop.set()
    for worker in workers:
        worker.join()
    traffic_ended = time.monotonic()

    wanted = {str(item["id"]) for item in told}
    print(f"clients were told of {len(told)} transfers ({len(refused)} refused)")

    def recorded() -> list[dict]:
        events, url = [], "/audit/events/?action=transaction.posted&target_type=transaction&page_size=500"
        while url:
            page = supervisor.call("GET", url)
            events += page["results"]
            url = page["next"]
        return [event for event in events if event["target_id"] in wanted]

    deadline = time.monotonic() + 120
    while True:
        events = recorded()
        if {event["target_id"] for event in events} >= wanted or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    caught_up = time.monotonic() - traffic_ended
    by_target: dict[str, int] = {}
    for event in events:
        by_target[event["target_id"]] = by_target.get(event["target_id"], 0) + 1
    missing = wanted - set(by_target)
    doubled = {target for target, count in by_target.items() if count > 1}
    verdict = supervisor.call("GET", "/audit/verify/")

    for name in ("before", "outage", "after"):
        seconds = [item["seconds"] * 1000 for item in told if item["phase"] == name]
        if seconds:
            print(f"  {name:>6}: {len(seconds):5d} transfers, median {statistics.median(seconds):6.1f} ms, "
                  f"p95 {percentile(seconds, 0.95):6.1f} ms")
    print(f"audit log complete {caught_up:.1f} s after the last transfer was answered")
    print(f"missing events: {len(missing)}, doubled events: {len(doubled)}, "
          f"chain: ok={verdict['ok']} checked={verdict['checked']} first_bad={verdict['first_bad']}")
    if refused:
        print("refusals (first 3):", *refused[:3], sep="\n  ")
    return 0 if not missing and not doubled and verdict["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
