"""`manage.py camt053_sample`: write a made-up camt.053 statement of Flux's clearing account, to try
the statement upload (desk page or POST clearing/statements/) on a development database. A tool for
demos and tests, not a bank's file: it books, as the correspondent would, every transfer Flux has
`sent`; credits alice's first account from "Jean Dupont" at a French bank; credits a Flux IBAN no
account holds (that one goes to suspense); and, with `--return <id>`, returns one sent transfer."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from banking.clearing.samples import V02, V08, camt053_xml, demo_entries, next_opening_balance
from banking.models import Transaction, TransactionKind, TransactionStatus


class Command(BaseCommand):
    help = "Write a sample camt.053 statement of Flux's clearing account (for trying the upload; not a bank's file)."

    def add_arguments(self, parser):
        parser.add_argument("--camt", dest="camt_version", choices=["02", "08"], default="08",
                            help="camt.053.001.02 or .001.08 (default 08).")
        parser.add_argument("--return", dest="return_id", type=int, help="Also return this sent transfer (AC04).")
        parser.add_argument("--output", default="-", help="A file to write (default: standard output).")

    def handle(self, *args, camt_version: str, return_id: int | None, output: str, **options):
        return_of = None
        if return_id is not None:
            return_of = Transaction.objects.filter(pk=return_id, kind=TransactionKind.EXTERNAL_TRANSFER,
                                                   status=TransactionStatus.SENT).first()
            if return_of is None:
                raise CommandError(f"Transaction {return_id} is not a transfer to another bank that was sent.")
        content = camt053_xml(demo_entries(return_of=return_of), version=V02 if camt_version == "02" else V08,
                              opening=next_opening_balance())
        if output == "-":
            self.stdout.write(content.decode())
        else:
            Path(output).write_bytes(content)
            self.stderr.write(f"Wrote {output}.")
