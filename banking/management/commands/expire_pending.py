"""`manage.py expire_pending`: void pending transactions past their expiry and release their holds.
Run it periodically (cron, a scheduler); running it twice is harmless."""

from django.core.management.base import BaseCommand

from banking.services import pending_expire


class Command(BaseCommand):
    help = "Void every pending transaction past its expiry (FLUX_PENDING_TTL_DAYS) and release its hold."

    def handle(self, *args, **options):
        expired = pending_expire()
        self.stdout.write(f"Voided {expired} expired pending transaction{'' if expired == 1 else 's'}.")
