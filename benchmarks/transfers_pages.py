"""Benchmark: GET /api/v1/transfers/ (a customer's transfers, newest first) among a million others.

The list keeps a customer's transfers (from or to any of their accounts) out of every other
customer's, then pages them with a cursor on the id. This times the first, middle and last page
for a busy customer (BUSY transfers of their own) and the first page for a quiet one (a handful),
both among TRANSFERS transfers between other customers. Prints figures; asserts nothing.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/flux_bench .venv/bin/python benchmarks/transfers_pages.py

Only transactions are written (with generate_series): the list reads no entries, and the
benchmark database serves nothing else.
"""

from __future__ import annotations

import base64
import os
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings.test")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from rest_framework.test import APIClient  # noqa: E402

TRANSFERS = int(os.environ.get("TRANSFERS", "1000000"))
BUSY = int(os.environ.get("BUSY", "50000"))
QUIET = 5
PAGE = 50
RUNS = 15


def account_of(username: str, staff):
    from banking.models import Account
    from banking.services import account_open
    from identity.models import Role, User

    customer, _ = User.objects.get_or_create(username=username, defaults={"role": Role.CUSTOMER})
    account = Account.objects.filter(customer=customer).first() or account_open(
        actor=staff, customer_id=customer.pk, kind="checking")
    return customer, account


def build():
    from banking.models import Transaction
    from identity.models import Role, User

    call_command("migrate", verbosity=0)
    staff, _ = User.objects.get_or_create(username="bench-agent", defaults={"role": Role.AGENT})
    busy, busy_account = account_of("bench-busy", staff)
    quiet, quiet_account = account_of("bench-quiet", staff)
    _, other_a = account_of("bench-other-a", staff)
    _, other_b = account_of("bench-other-b", staff)
    have = Transaction.objects.filter(reference__startswith="bench ").count()
    if have == 0:
        started = time.perf_counter()
        with connection.cursor() as cursor:
            # Transfer g goes busy -> other_a when g is a multiple of the step (BUSY of them, spread
            # over the whole id range), quiet -> other_b for QUIET of them, other_a -> other_b else.
            step = max(1, TRANSFERS // BUSY)
            cursor.execute(
                """
                INSERT INTO banking_transaction (kind, status, amount, currency, source_id, destination_id,
                    external_iban, reference, initiated_by_id, created_at, posted_at, decision_reason, hold_amount)
                SELECT 'transfer', 'posted', 100 + g %% 1000, 'EUR',
                    CASE WHEN g %% %(step)s = 0 THEN %(busy)s
                         WHEN g %% %(quiet_step)s = 7 THEN %(quiet)s ELSE %(a)s END,
                    CASE WHEN g %% %(step)s = 0 THEN %(a)s ELSE %(b)s END,
                    '', 'bench ' || g, %(staff)s, now() - ((%(total)s - g) || ' seconds')::interval, now(), '', 0
                FROM generate_series(1, %(total)s) AS g
                """,
                {"step": step, "busy": busy_account.pk, "quiet_step": TRANSFERS // QUIET, "quiet": quiet_account.pk,
                 "a": other_a.pk, "b": other_b.pk, "staff": staff.pk, "total": TRANSFERS},
            )
            cursor.execute("ANALYZE banking_transaction")
        print(f"wrote {TRANSFERS:,} transfers in {time.perf_counter() - started:.1f} s")
    return busy, quiet


def cursor_at(transaction_id: int) -> str:
    return base64.b64encode(urlencode({"p": str(transaction_id)}).encode()).decode()


def time_page(client, params: dict) -> tuple[float, float, int]:
    timings = []
    for _ in range(RUNS):
        started = time.perf_counter()
        response = client.get("/api/v1/transfers/", params)
        timings.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.content
    return statistics.median(timings), sorted(timings)[int(RUNS * 0.9)], len(response.json()["results"])


def main() -> None:
    from banking import selectors

    if connection.vendor != "postgresql":
        sys.exit("Run this on PostgreSQL (set DATABASE_URL).")
    busy, quiet = build()
    ids = selectors.transfer_list_for_user(user=busy).order_by("id").values_list("id", flat=True)
    total = ids.count()
    print(f"{TRANSFERS:,} transfers in all; the busy customer has {total:,}, the quiet one "
          f"{selectors.transfer_list_for_user(user=quiet).count()}; page size {PAGE}; {RUNS} runs each")
    for user, label, position in [
        (busy, "busy, first page", None),
        (busy, "busy, middle page", ids[total // 2]),
        (busy, "busy, last page", ids[PAGE]),
        (quiet, "quiet, only page", None),
    ]:
        client = APIClient()
        client.force_authenticate(user)
        params = {"page_size": PAGE} | ({"cursor": cursor_at(position)} if position else {})
        median, p90, rows = time_page(client, params)
        print(f"{label:18s} rows={rows:3d} median={median:7.2f} ms  p90={p90:7.2f} ms")
    query = selectors.transfer_list_for_user(user=quiet)[:PAGE + 1].query
    with connection.cursor() as cursor:
        sql, params = query.sql_with_params()
        cursor.execute("EXPLAIN ANALYZE " + sql, params)
        print("\n".join(row[0] for row in cursor.fetchall()))


if __name__ == "__main__":
    main()
