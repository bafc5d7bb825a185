"""Benchmark: a 10,000-line bulk import (workspace/imports/) on PostgreSQL, in lines per second.

    createdb -h 127.0.0.1 -U postgres flux_bench
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/flux_bench .venv/bin/python benchmarks/bulk_import.py

It migrates that database, opens ACCOUNTS customer accounts (default 50) funded at the counter,
writes a CSV of LINES operations (default 10,000: 60% deposits, 20% withdrawals, 20% transfers,
all under the approval thresholds, a fresh nonce in the references so each run applies anew),
then times the three steps the page drives: the upload's validation, the valid lines applied
in chunks of 500 (each through run_once and the services, as on the page), and the same file
uploaded again (every line replayed, nothing applied). Prints figures; asserts only that the
ledger moved once.
"""

from __future__ import annotations

import os
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings.test")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from workspace.imports.services import import_apply_next, import_create  # noqa: E402

LINES = int(os.environ.get("LINES", "10000"))
ACCOUNTS = int(os.environ.get("ACCOUNTS", "50"))


def build():
    from banking.models import Account, TransactionStatus
    from banking.services import account_open, deposit_create, transaction_approve
    from identity.models import Role, User

    call_command("migrate", verbosity=0)
    agent, _ = User.objects.get_or_create(username="bench-import-agent", defaults={"role": Role.AGENT})
    supervisor, _ = User.objects.get_or_create(username="bench-import-supervisor",
                                               defaults={"role": Role.SUPERVISOR})
    customer, _ = User.objects.get_or_create(username="bench-import-customer", defaults={"role": Role.CUSTOMER})
    accounts = list(Account.objects.filter(customer=customer).order_by("pk"))
    while len(accounts) < ACCOUNTS:
        account = account_open(actor=supervisor, customer_id=customer.pk, kind="checking")
        txn = deposit_create(initiator=agent, account_id=account.pk, amount=1_000_000_00)
        if txn.status == TransactionStatus.PENDING:
            transaction_approve(approver=supervisor, transaction_id=txn.pk)
        accounts.append(account)
    return agent, accounts


def csv_for(accounts, nonce: str) -> bytes:
    rng = random.Random(nonce)
    lines = ["type,account,amount,counterparty,reference"]
    for number in range(LINES):
        roll = rng.random()
        source, destination = rng.sample(accounts, 2)
        amount = f"{rng.randint(1, 400)}.{rng.randint(0, 99):02d}"
        if roll < 0.6:
            lines.append(f"deposit,{source.iban},{amount},,bench {nonce} {number}")
        elif roll < 0.8:
            lines.append(f"withdrawal,{source.iban},{amount},,bench {nonce} {number}")
        else:
            lines.append(f"transfer,{source.iban},{amount},{destination.iban},bench {nonce} {number}")
    return ("\r\n".join(lines) + "\r\n").encode()


def run(agent, content: bytes, label: str) -> object:
    started = time.perf_counter()
    batch = import_create(uploader=agent, file_name=f"{label}.csv", content=content)
    validated = time.perf_counter()
    chunks = 0
    while True:
        chunks += 1
        progress = import_apply_next(actor=agent, batch_id=batch.pk)
        if progress.finished:
            break
    applied = time.perf_counter()
    validation, application = validated - started, applied - validated
    print(f"{label}: {batch.line_count} lines, {len(content) / 2**20:.1f} MB")
    print(f"  validation  {validation:6.2f} s  {batch.line_count / validation:8.0f} lines/s")
    print(f"  applying    {application:6.2f} s  {batch.line_count / application:8.0f} lines/s  ({chunks} requests, "
          f"{application / chunks:.2f} s each, {1000 * application / batch.line_count:.1f} ms per line)")
    print(f"  overall     {validation + application:6.2f} s  {batch.line_count / (validation + application):8.0f} "
          f"lines/s   results: {dict(progress.counts)}")
    return batch


def main() -> None:
    if connection.vendor != "postgresql":
        sys.exit("Set DATABASE_URL to a PostgreSQL database (the figures are PostgreSQL's).")
    from banking.models import Entry

    agent, accounts = build()
    nonce = str(time.time_ns())
    content = csv_for(accounts, nonce)
    entries = Entry.objects.count()
    first = run(agent, content, "first upload")
    moved = Entry.objects.count() - entries
    second = run(agent, content, "same file again")
    applied_first = first.lines.filter(status="applied").count()
    # Every line is replayed: an applied one is "already applied", a refused one is refused again
    # (its refusal is kept under its key), so the second upload moves nothing.
    assert second.lines.filter(status="already").count() == applied_first, "the second upload moved money"
    moved_again = Entry.objects.count() - entries - moved
    print(f"entries written: {moved} by the first upload, {moved_again} by the second")
    assert moved_again == 0, "the second upload moved money"


if __name__ == "__main__":
    main()
