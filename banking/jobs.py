"""Banking's timed work, run by the scheduler (core/scheduler.py, settings.FLUX_SCHEDULE)."""

from __future__ import annotations

from datetime import datetime, time

from django.conf import settings
from django.utils import timezone

from banking.clearing.runs import clearing_run_create
from banking.models import ClearingRun
from banking.services import pending_expire
from core.errors import ApplicationError, ErrorCode


def expire_pending() -> int:
    """Void the pending transactions past their expiry and release their holds (audited, one
    transaction each: banking.services.approvals.pending_expire)."""
    return pending_expire()


def cutoff_at(now: datetime) -> datetime:
    """Today's clearing cut-off (FLUX_CLEARING_CUTOFF, "HH:MM" in the bank's time zone), aware."""
    hours, minutes = (int(part) for part in settings.FLUX_CLEARING_CUTOFF.split(":"))
    local = timezone.localtime(now)
    return timezone.make_aware(datetime.combine(local.date(), time(hours, minutes)), local.tzinfo)


def clearing_at_cutoff(*, now: datetime | None = None) -> int:
    """At or after the cut-off, once a day per currency, send what waits in a clearing run of the
    scheduler's own (created_by None). Returns how many transfers it sent.

    Once a day: a currency that already has a run without initiator since today's cut-off is left
    alone until tomorrow (so is one a `manage.py clearing_run` sent since: it has no initiator
    either). Nothing waiting is no run: the next tick (every minute) asks again, so the first
    transfer posted after the cut-off leaves that day. Safe twice: a second call finds today's run;
    two at once cannot share a transfer (banking.locks.lock_transfers_to_clear), and the
    scheduler's advisory lock keeps a second scheduler from trying."""
    now = now or timezone.now()
    cutoff = cutoff_at(now)
    if now < cutoff:
        return 0
    done = set(
        ClearingRun.objects.filter(created_by__isnull=True, created_at__gte=cutoff).values_list("currency", flat=True)
    )
    sent = 0
    for currency in settings.FLUX_CURRENCIES:
        if currency in done:
            continue
        try:
            sent += clearing_run_create(initiator=None, currency=currency, at=now).count
        except ApplicationError as refusal:
            if refusal.code != ErrorCode.NOTHING_TO_CLEAR:
                raise
    return sent
