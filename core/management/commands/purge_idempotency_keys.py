"""`manage.py purge_idempotency_keys`: forget idempotency keys older than FLUX_IDEMPOTENCY_TTL_HOURS.
Keys are promised to last at least 24 hours (DESIGN.md), so a shorter setting is raised to 24.
The scheduler runs the same purge every hour (core/scheduler.py)."""

from django.core.management.base import BaseCommand

from core.idempotency import idempotency_ttl, purge_expired_keys


class Command(BaseCommand):
    help = "Delete idempotency keys older than FLUX_IDEMPOTENCY_TTL_HOURS (never younger than 24 hours)."

    def handle(self, *args, **options):
        deleted = purge_expired_keys()
        hours = int(idempotency_ttl().total_seconds() // 3600)
        self.stdout.write(f"Deleted {deleted} idempotency key{'' if deleted == 1 else 's'} older than {hours} hours.")
