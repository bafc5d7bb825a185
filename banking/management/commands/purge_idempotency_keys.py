"""`manage.py purge_idempotency_keys`: forget idempotency keys older than FLUX_IDEMPOTENCY_TTL_HOURS.
Keys are promised to last at least 24 hours (DESIGN.md), so a shorter setting is raised to 24."""

from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils import timezone

from core.models import IdempotencyKey

MINIMUM_TTL_HOURS = 24


def idempotency_ttl() -> timedelta:
    return timedelta(hours=max(int(settings.FLUX_IDEMPOTENCY_TTL_HOURS), MINIMUM_TTL_HOURS))


class Command(BaseCommand):
    help = "Delete idempotency keys older than FLUX_IDEMPOTENCY_TTL_HOURS (never younger than 24 hours)."

    def handle(self, *args, **options):
        ttl = idempotency_ttl()
        cutoff = timezone.now() - ttl
        _total, by_model = IdempotencyKey.objects.filter(created_at__lt=cutoff).delete()
        deleted = by_model.get(IdempotencyKey._meta.label, 0)
        hours = int(ttl.total_seconds() // 3600)
        self.stdout.write(f"Deleted {deleted} idempotency key{'' if deleted == 1 else 's'} older than {hours} hours.")
