"""Benchmark: a camt.053 statement of 10,000 credits imported (banking.clearing.statements), on
PostgreSQL, in seconds.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/flux_bench .venv/bin/python benchmarks/statement_import.py

It migrates that database, opens ACCOUNTS customer accounts (default 1,000; kept between runs),
builds a camt.053.001.08 statement of ENTRIES credits (default 10,000) spread over them (each with a
debtor name, IBAN and remittance; fresh references every run, so each run applies anew), then
times: reading the file (camt053.parse_camt053), importing it (statement_import: every entry
credited, one transaction, two entries and one audit event each), and importing the same file
again (every entry a duplicate, nothing moves). Prints figures; asserts only that each entry was
applied once.
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

ENTRIES = int(os.environ.get("ENTRIES", "10000"))
ACCOUNTS = int(os.environ.get("ACCOUNTS", "1000"))


def build():
    from banking.models import Account
    from banking.services import account_open
    from identity.models import Role, User

    call_command("migrate", verbosity=0)
    supervisor, _ = User.objects.get_or_create(username="bench-statement-supervisor",
                                               defaults={"role": Role.SUPERVISOR})
    customer, _ = User.objects.get_or_create(username="bench-statement-customer", defaults={"role": Role.CUSTOMER})
    accounts = list(Account.objects.filter(customer=customer).order_by("pk"))
    while len(accounts) < ACCOUNTS:
        accounts.append(account_open(actor=supervisor, customer_id=customer.pk, kind="checking"))
    return supervisor, accounts[:ACCOUNTS]


def main() -> None:
    from banking.clearing.camt053 import parse_camt053
    from banking.clearing.samples import V08, camt053_xml, credit
    from banking.clearing.statements import statement_import

    supervisor, accounts = build()
    content = camt053_xml([
        credit(f"{1 + n % 500}.{n % 100:02d}", debtor_name=f"Payer {n}", debtor_iban="FR7630006000011234567890189",
               creditor_iban=accounts[n % len(accounts)].iban, remittance=f"Invoice {n}")
        for n in range(ENTRIES)
    ], version=V08)
    print(f"statement: {ENTRIES} credits to {len(accounts)} accounts, {len(content) / 2**20:.1f} MB")

    started = time.perf_counter()
    parsed = parse_camt053(content)
    parse_seconds = time.perf_counter() - started
    assert len(parsed.entries) == ENTRIES

    started = time.perf_counter()
    statement = statement_import(initiator=supervisor, content=content)
    import_seconds = time.perf_counter() - started
    assert statement.credited == ENTRIES, statement.credited

    started = time.perf_counter()
    again = statement_import(initiator=supervisor, content=content)
    again_seconds = time.perf_counter() - started
    assert again.duplicates == ENTRIES and again.credited == 0

    print(f"read the file:           {parse_seconds:6.2f} s")
    rate = ENTRIES / import_seconds
    print(f"import (all credited):   {import_seconds:6.2f} s  ({rate:,.0f} entries/s, reading included)")
    print(f"again (all duplicates):  {again_seconds:6.2f} s")


if __name__ == "__main__":
    main()
