"""Banking's timed work, run by the scheduler (core/scheduler.py, settings.FLUX_SCHEDULE)."""

from banking.services import pending_expire


def expire_pending() -> int:
    """Void the pending transactions past their expiry and release their holds (audited, one
    transaction each: banking.services.approvals.pending_expire)."""
    return pending_expire()
