"""Benchmark: the cost of a page of entries at the start, middle and end of a million-entry history.

Cursor pagination seeks on (account_id, id) instead of counting or offsetting, so the last page
should cost what the first one does. Prints figures; asserts nothing (timings are noisy here).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/flux_bench .venv/bin/python benchmarks/entries_pages.py

It migrates that database, writes ENTRIES rows (default 1,000,000) for one account with
generate_series (a balanced ledger: the account against the cash vault), then times GET
/api/v1/accounts/{id}/entries/ through the full Django stack with a cursor at each position.
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

ENTRIES = int(os.environ.get("ENTRIES", "1000000"))
PAGE = 50
RUNS = 15


def build() -> tuple[object, object]:
    from banking.ledger import internal_account
    from banking.models import Account, AccountKind, Entry
    from banking.services import account_open
    from identity.models import Role, User

    call_command("migrate", verbosity=0)
    staff, _ = User.objects.get_or_create(username="bench-agent", defaults={"role": Role.AGENT})
    customer, _ = User.objects.get_or_create(username="bench-customer", defaults={"role": Role.CUSTOMER})
    account = Account.objects.filter(customer=customer).first() or account_open(
        actor=staff, customer_id=customer.pk, kind="checking"
    )
    have = Entry.objects.filter(account=account).count()
    if have < ENTRIES:
        vault = internal_account(AccountKind.CASH, "EUR")
        missing = ENTRIES - have
        started = time.perf_counter()
        with connection.cursor() as cursor:
            # One deposit of 1.00 per pair of entries, the two sides interleaved as in real traffic:
            # balanced, and the stored balances kept equal to the entries.
            cursor.execute(
                """
                WITH txns AS (
                    INSERT INTO banking_transaction (kind, status, amount, currency, external_iban, reference,
                        initiated_by_id, created_at, posted_at, decision_reason, hold_amount)
                    SELECT 'deposit', 'posted', 100, 'EUR', '', 'bench ' || g, %s,
                        now() - (g || ' seconds')::interval, now(), '', 0
                    FROM generate_series(1, %s) AS g
                    RETURNING id, created_at
                ), numbered AS (
                    SELECT id, created_at, row_number() OVER (ORDER BY id) AS n FROM txns
                )
                INSERT INTO banking_entry (transaction_id, account_id, amount, balance_after, counterparty, created_at)
                SELECT id,
                    CASE WHEN side = 1 THEN %s ELSE %s END,
                    CASE WHEN side = 1 THEN 100 ELSE -100 END,
                    CASE WHEN side = 1 THEN %s + n * 100 ELSE %s - n * 100 END,
                    CASE WHEN side = 1 THEN 'Cash' ELSE %s END,
                    created_at
                FROM numbered CROSS JOIN (VALUES (1), (2)) AS sides(side)
                ORDER BY n, side
                """,
                [staff.pk, missing, account.pk, vault.pk, account.balance, vault.balance, account.iban],
            )
            cursor.execute(
                "UPDATE banking_account SET balance = balance + %s WHERE id = %s", [missing * 100, account.pk]
            )
            cursor.execute(
                "UPDATE banking_account SET balance = balance - %s WHERE id = %s", [missing * 100, vault.pk]
            )
            cursor.execute("ANALYZE banking_entry")
        print(f"wrote {missing:,} entry pairs in {time.perf_counter() - started:.1f} s")
    return customer, account


def cursor_at(entry_id: int) -> str:
    """DRF's cursor for "the page after position entry_id" (ordering -id)."""
    return base64.b64encode(urlencode({"p": str(entry_id)}).encode()).decode()


def main() -> None:
    from banking.models import Entry

    if connection.vendor != "postgresql":
        sys.exit("Run this on PostgreSQL (set DATABASE_URL).")
    customer, account = build()
    ids = Entry.objects.filter(account=account).order_by("id").values_list("id", flat=True)
    total = ids.count()
    positions = {
        "first page": None,
        "middle page": ids[total // 2],
        "last page": ids[PAGE],  # the page after this position holds the oldest PAGE entries
    }
    client = APIClient()
    client.force_authenticate(customer)
    url = f"/api/v1/accounts/{account.pk}/entries/"
    print(f"account {account.iban}: {total:,} entries; page size {PAGE}; {RUNS} runs each")
    for label, position in positions.items():
        params = {"page_size": PAGE}
        if position is not None:
            params["cursor"] = cursor_at(position)
        timings = []
        for _ in range(RUNS):
            started = time.perf_counter()
            response = client.get(url, params)
            timings.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, response.content
        rows = len(response.json()["results"])
        print(f"{label:12s} rows={rows:3d} median={statistics.median(timings):7.2f} ms  "
              f"p90={sorted(timings)[int(RUNS * 0.9)]:7.2f} ms")
    with connection.cursor() as cursor:
        cursor.execute(
            "EXPLAIN ANALYZE SELECT * FROM banking_entry WHERE account_id = %s AND id < %s ORDER BY id DESC LIMIT 51",
            [account.pk, positions["last page"]],
        )
        print("\n".join(row[0] for row in cursor.fetchall()))


if __name__ == "__main__":
    main()
