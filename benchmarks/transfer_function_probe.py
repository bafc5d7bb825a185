"""What a plain transfer costs in one PostgreSQL call against the Python path (issue 11).

    .venv/bin/python benchmarks/capacity.py --clients 1 --duration 1   # seeds flux_capacity_bench once
    .venv/bin/python benchmarks/transfer_function_probe.py 2000

On a scratch copy of benchmarks/capacity.py's database (dropped at the end) it times, interleaved,
N transfers between bench-0's two accounts each way, below DRF:

- service: `run_once` around `banking.services.transfer_create` and the API's body
  (`transaction_body`), what POST /api/v1/transfers/ runs for every transfer that is not plain;
- function: `banking.services.transfer_posted_at_once` with the API's answer
  (`posted_transfer_answer`), one call of flux_transfer_posted (banking/migrations/0010), what it
  runs for a plain one.

It prints the CPU per transfer of this process (client) and of its PostgreSQL backend, and the
ratio. It was first a probe, with a function of its own making only the plainest checks, to decide
whether to build this (2026-11-28: service 3.3-3.7 ms, that function 1.0-1.1 ms of CPU).
"""

from __future__ import annotations

import os
import sys
import time
import uuid
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))
os.chdir(BASE_DIR)

SERVER = os.environ.get("POSTGRES", "postgres://postgres@127.0.0.1:5432")
TEMPLATE, SCRATCH = "flux_capacity_bench", "flux_transfer_probe"
os.environ.update(
    {
        "DJANGO_SETTINGS_MODULE": "project.settings.dev",
        "SECRET_KEY": "probe-only-" + "k" * 50,
        "DATABASE_URL": f"{SERVER}/{SCRATCH}",
        "FLUX_SERVICE": "probe",
    }
)

def admin(statement: str) -> None:
    import psycopg

    with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as conn:
        conn.execute(statement)


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    admin(f'DROP DATABASE IF EXISTS "{SCRATCH}" WITH (FORCE)')
    admin(f'CREATE DATABASE "{SCRATCH}" TEMPLATE "{TEMPLATE}"')
    try:
        run(count)
    finally:
        from django.db import connection

        connection.close()
        connection.close_pool()
        admin(f'DROP DATABASE IF EXISTS "{SCRATCH}" WITH (FORCE)')


def run(count: int) -> None:
    import django

    django.setup()
    from django.db import connection
    from django.utils import timezone

    from banking import services
    from banking.api.views import posted_transfer_answer, transaction_body
    from banking.models import Account
    from core.idempotency import fingerprint, run_once
    from identity.models import User

    user = User.objects.get(username="bench-0")
    source, destination = Account.objects.filter(customer=user).order_by("pk")[:2]

    def backend_cpu() -> float:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            pid = cursor.fetchone()[0]
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def service() -> None:
        def operation():
            txn = services.transfer_create(initiator=user, source_account_id=source.pk,
                                           destination_iban=destination.iban, amount=1, reference="probe",
                                           beneficiary_name="")
            return 201, transaction_body(txn, created=True)

        run_once(user=user, key=str(uuid.uuid4()), fingerprint=fingerprint("probe", uuid.uuid4().hex),
                 operation=operation)

    def function() -> None:
        at = timezone.now()
        answer = posted_transfer_answer(initiator=user, source_account_id=source.pk, amount=1, reference="probe",
                                        at=at)
        assert services.transfer_posted_at_once(
            initiator=user, key=str(uuid.uuid4()), fingerprint=uuid.uuid4().hex, source_account_id=source.pk,
            destination_iban=destination.iban, amount=1, reference="probe", at=at, answer=answer) is not None

    figures: dict[str, list[float]] = {"service": [], "function": []}
    for name, path in [("service", service), ("function", function)] * 2:
        for _ in range(50):  # warm: prepared statements, caches
            path()
        backend_before, client_before = backend_cpu(), time.process_time()
        for _ in range(count):
            path()
        client = (time.process_time() - client_before) / count * 1000
        backend = (backend_cpu() - backend_before) / count * 1000
        figures[name].append(client + backend)
        print(f"{name:<9} client {client:6.3f} ms  backend {backend:6.3f} ms  total {client + backend:6.3f} ms",
              flush=True)
    service_ms, function_ms = (sum(values) / len(values) for values in figures.values())
    print(f"service / function: {service_ms / function_ms:.2f}x the CPU per transfer")


if __name__ == "__main__":
    main()
