"""`manage.py clearing_run`: send the transfers to other banks that wait, in one pain.001 file (a
clearing run without initiator, as the scheduler's). Running it twice is harmless: the second finds
nothing waiting."""

from django.core.management.base import BaseCommand, CommandError

from banking.clearing.runs import clearing_run_create
from core.errors import ApplicationError, ErrorCode
from core.money import format_minor


class Command(BaseCommand):
    help = "Send every posted transfer to another bank not yet sent, in one pain.001 file (a clearing run)."

    def add_arguments(self, parser):
        parser.add_argument("--currency", default="EUR", help="The currency of the run (default EUR).")

    def handle(self, *args, currency: str, **options):
        try:
            run = clearing_run_create(initiator=None, currency=currency)
        except ApplicationError as refusal:
            if refusal.code != ErrorCode.NOTHING_TO_CLEAR:
                raise CommandError(f"{refusal.message} {refusal.fields or ''}".strip()) from refusal
            self.stdout.write(f"Nothing to send: {refusal.message}")
            return
        self.stdout.write(
            f"Clearing run #{run.pk}: sent {run.count} transfer{'' if run.count == 1 else 's'}, "
            f"{format_minor(run.total)} {run.currency}, in {run.file_name} (message {run.message_id})."
        )
