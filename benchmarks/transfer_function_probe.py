"""Probe (issue 11): what a transfer would cost as one PostgreSQL call, against the service path.

    .venv/bin/python benchmarks/capacity.py --clients 1 --duration 1   # seeds flux_capacity_bench once
    .venv/bin/python benchmarks/transfer_function_probe.py 2000

Not Flux code and not a design: a measurement to decide whether the step the issue allows ("one
PostgreSQL function that applies the same rules") is worth building. On a scratch copy of
benchmarks/capacity.py's database (dropped at the end) it installs PROBE_SQL, a PL/pgSQL function
that makes the writes of one posted transfer (the idempotency key claimed and answered, both
accounts locked in ascending id order, the transaction, its two entries, the balances, the audit
event and its outbox row) with only the plainest checks (owner, active, currency, funds). It then
times, interleaved, N transfers between bench-0's two accounts each way:

- service: `run_once` around `banking.services.transfer_create` and the API's body
  (`transaction_body`), the code POST /api/v1/transfers/ runs below DRF;
- function: one `SELECT flux_transfer_probe(...)`.

It prints the CPU per transfer of this process (client) and of its PostgreSQL backend, and the
ratio. Measured 2026-11-28 on the 2-core machine: service 3.3-3.7 ms (client 2.1-2.3, backend
1.25-1.36), function 1.0-1.1 ms (client 0.18-0.24, backend 0.75-0.91). What the function leaves out
(pending transfers, payee checks, other banks' IBANs, staff, translated refusals, the exact API
body) would cost more SQL, not more round trips.
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

PROBE_SQL = """
CREATE FUNCTION flux_transfer_probe(p_user bigint, p_key text, p_fp text, p_src bigint, p_iban text,
                                    p_amount bigint, p_ref text, p_now timestamptz)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  k_id bigint; a record; s record; d record; t_id bigint; ev_id bigint; body jsonb;
BEGIN
  INSERT INTO banking_idempotencykey (user_id, key, fingerprint, response_status, response_body, created_at)
  VALUES (p_user, p_key, p_fp, 0, '{}', p_now) ON CONFLICT (user_id, key) DO NOTHING RETURNING id INTO k_id;
  IF k_id IS NULL THEN
    RETURN (SELECT response_body FROM banking_idempotencykey WHERE user_id = p_user AND key = p_key);
  END IF;
  FOR a IN SELECT * FROM banking_account WHERE id = p_src OR iban = p_iban ORDER BY id FOR UPDATE LOOP
    IF a.id = p_src THEN s := a; ELSE d := a; END IF;
  END LOOP;
  IF s.customer_id IS DISTINCT FROM p_user THEN RAISE EXCEPTION 'not_found'; END IF;
  IF s.status <> 'active' OR d.status <> 'active' THEN RAISE EXCEPTION 'account_frozen'; END IF;
  IF s.currency <> d.currency THEN RAISE EXCEPTION 'currency_mismatch'; END IF;
  IF s.balance - s.held + s.overdraft_limit < p_amount THEN RAISE EXCEPTION 'insufficient_funds'; END IF;
  INSERT INTO banking_transaction (kind, status, amount, currency, external_iban, reference, created_at, posted_at,
      expires_at, decided_at, decision_reason, hold_amount, decided_by_id, destination_id, initiated_by_id,
      reverses_id, source_id, beneficiary_name, payee_check, payer_name, return_of_id, sent_at, clearing_run_id)
  VALUES ('transfer', 'posted', p_amount, s.currency, '', p_ref, p_now, p_now, NULL, NULL, '', 0, NULL, d.id,
      p_user, NULL, s.id, '', 'unavailable', '', NULL, NULL, NULL) RETURNING id INTO t_id;
  INSERT INTO banking_entry (amount, balance_after, counterparty, created_at, account_id, transaction_id)
  VALUES (-p_amount, s.balance - p_amount, d.iban, p_now, s.id, t_id),
         (p_amount, d.balance + p_amount, s.iban, p_now, d.id, t_id);
  UPDATE banking_account SET balance = balance - p_amount WHERE id = s.id;
  UPDATE banking_account SET balance = balance + p_amount WHERE id = d.id;
  INSERT INTO audit_auditevent (occurred_at, actor_username, action, target_type, target_id, data, actor_id)
  VALUES (p_now, 'probe', 'transaction.posted', 'transaction', t_id::text,
          jsonb_build_object('kind', 'transfer', 'status', 'posted',
                             'amount', to_char(p_amount / 100.0, 'FM999999990.00'), 'currency', s.currency,
                             'source', s.iban, 'destination', d.iban, 'reference', p_ref), p_user)
  RETURNING id INTO ev_id;
  INSERT INTO audit_outboxmessage (event_id, attempts) VALUES (ev_id, 0);
  body := jsonb_build_object('id', t_id, 'kind', 'transfer', 'status', 'posted',
                             'amount', to_char(p_amount / 100.0, 'FM999999990.00'), 'currency', s.currency,
                             'source_account', s.id, 'source_iban', s.iban, 'destination_account', d.id,
                             'destination_iban', d.iban, 'reference', p_ref, 'initiated_by', p_user,
                             'created_at', p_now);
  UPDATE banking_idempotencykey SET response_status = 201, response_body = body WHERE id = k_id;
  RETURN body;
END $$;
"""


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
    from banking.api.views import transaction_body
    from banking.models import Account
    from core.idempotency import fingerprint, run_once
    from identity.models import User

    user = User.objects.get(username="bench-0")
    source, destination = Account.objects.filter(customer=user).order_by("pk")[:2]
    with connection.cursor() as cursor:
        cursor.execute(PROBE_SQL)

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
        with connection.cursor() as cursor:
            cursor.execute("SELECT flux_transfer_probe(%s, %s, %s, %s, %s, %s, %s, %s)",
                           [user.pk, str(uuid.uuid4()), uuid.uuid4().hex, source.pk, destination.iban, 1, "probe",
                            timezone.now()])
            cursor.fetchone()

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
