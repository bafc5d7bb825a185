"""Benchmark: a clearing run of 10,000 transfers to other banks (banking/clearing/runs.py).

Writes COUNT posted transfers to other banks with one INSERT ... generate_series (names, a third
without a name but with a saved beneficiary, references with accents), then times
clearing_run_create: lock, read, build the pain.001 file with sepaxml, validate it with lxml, keep
it, mark every transfer sent in one UPDATE, and write COUNT + 1 audit events. Prints the figure;
asserts nothing but the run's count.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/flux_bench .venv/bin/python benchmarks/clearing_run.py

Only the transactions are written by SQL (no entries: the run reads none); the accounts are opened
through the services. Each execution adds COUNT new transfers and sends them.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings.test")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

COUNT = int(os.environ.get("COUNT", "10000"))
IBANS = ["DE89370400440532013000", "FR1420041010050500013M02606", "GB82WEST12345698765432", "NL91ABNA0417164300"]


def build() -> None:
    from banking.ledger import internal_account
    from banking.models import Account, AccountKind, Beneficiary
    from banking.services import account_open
    from identity.models import Role, User

    call_command("migrate", verbosity=0)
    staff, _ = User.objects.get_or_create(username="bench-agent", defaults={"role": Role.AGENT})
    customer, _ = User.objects.get_or_create(username="bench-payer", defaults={"role": Role.CUSTOMER})
    account = Account.objects.filter(customer=customer).first() or account_open(
        actor=staff, customer_id=customer.pk, kind="checking")
    clearing = internal_account(AccountKind.CLEARING, "EUR")
    from django.utils import timezone

    Beneficiary.objects.get_or_create(customer=customer, iban=IBANS[2],
                                      defaults={"name": "Łukasz Żółć", "created_at": timezone.now()})
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO banking_transaction (kind, status, amount, currency, source_id, destination_id,
                external_iban, reference, beneficiary_name, payee_check, initiated_by_id, created_at, posted_at,
                decision_reason, hold_amount, payer_name)
            SELECT 'external_transfer', 'posted', 100 + g %% 100000, 'EUR', %(source)s, %(clearing)s,
                (%(ibans)s::text[])[1 + g %% 4], CASE WHEN g %% 5 = 0 THEN '' ELSE 'Facture n° ' || g || ' — café' END,
                CASE WHEN g %% 4 = 2 THEN '' ELSE 'Zoë Ñúñez & fils ' || g END, '', %(staff)s, now(), now(), '', 0, ''
            FROM generate_series(1, %(count)s) AS g
            """,
            {"source": account.pk, "clearing": clearing.pk, "ibans": IBANS, "staff": staff.pk, "count": COUNT},
        )
        cursor.execute("ANALYZE banking_transaction")
    print(f"wrote {COUNT:,} posted transfers to other banks in {time.perf_counter() - started:.2f} s")


def main() -> None:
    from banking.clearing.runs import clearing_run_create

    if connection.vendor != "postgresql":
        sys.exit("Run this on PostgreSQL (set DATABASE_URL).")
    build()
    started = time.perf_counter()
    run = clearing_run_create(initiator=None, currency="EUR")
    seconds = time.perf_counter() - started
    assert run.count >= COUNT, run.count
    print(f"clearing_run_create: {run.count:,} transfers, file {len(bytes(run.file)) / 1e6:.1f} MB, "
          f"{seconds:.2f} s ({run.count / seconds:,.0f} transfers/s)")


if __name__ == "__main__":
    main()
