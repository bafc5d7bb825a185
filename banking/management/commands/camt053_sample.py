"""`manage.py camt053_sample`: write a made-up camt.053 statement of Flux's clearing account, to try
the statement upload (desk page or POST clearing/statements/) on a development database. A tool for
demos and tests, not a bank's file: it books, as the correspondent would, every transfer Flux has
`sent`; credits alice's first account from "Jean Dupont" at a French bank; credits a Flux IBAN no
account holds (that one goes to suspense); and, with `--return <id>`, returns one sent transfer."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from banking.clearing.samples import V02, V08, SampleEntry, camt053_xml, credit, debit
from banking.models import Account, Transaction, TransactionKind, TransactionStatus
from core.money import format_minor

JEAN_DUPONT_IBAN = "FR7630006000011234567890189"
UNKNOWN_FLUX_IBAN = "NL91FLUX0000000000"


def sample_entries(*, return_of: Transaction | None = None) -> list[SampleEntry]:
    entries = [
        debit(format_minor(txn.amount), currency=txn.currency, end_to_end_id=str(txn.pk),
              creditor_name=txn.beneficiary_name, creditor_iban=txn.external_iban, remittance=txn.reference)
        for txn in Transaction.objects.filter(kind=TransactionKind.EXTERNAL_TRANSFER, status=TransactionStatus.SENT,
                                              currency="EUR").order_by("pk")
        if return_of is None or txn.pk != return_of.pk
    ]
    alice = Account.objects.filter(customer__username="alice", currency="EUR").order_by("pk").first()
    if alice is not None:
        entries.append(credit("125.00", debtor_name="Jean Dupont", debtor_iban=JEAN_DUPONT_IBAN,
                              creditor_name="Alice Liddell", creditor_iban=alice.iban, remittance="Loyer mars"))
    entries.append(credit("42.00", debtor_name="Unknown Payer", debtor_iban=JEAN_DUPONT_IBAN,
                          creditor_iban=UNKNOWN_FLUX_IBAN, remittance="Wrong account"))
    if return_of is not None:
        entries.append(credit(format_minor(return_of.amount), end_to_end_id=str(return_of.pk), return_reason="AC04",
                              debtor_name=return_of.beneficiary_name, debtor_iban=return_of.external_iban,
                              remittance=return_of.reference))
    return entries


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
        content = camt053_xml(sample_entries(return_of=return_of), version=V02 if camt_version == "02" else V08)
        if output == "-":
            self.stdout.write(content.decode())
        else:
            Path(output).write_bytes(content)
            self.stderr.write(f"Wrote {output}.")
