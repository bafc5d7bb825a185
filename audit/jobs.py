"""The audit trail's timed work, run by the scheduler (core/scheduler.py, settings.FLUX_SCHEDULE)."""

import logging

from prometheus_client import Gauge

from audit.chain import verify

logger = logging.getLogger("flux.audit.chain")

CHAIN_INTACT = Gauge("flux_audit_chain_intact", "1 when the last check of the audit log's hash chain passed, else 0.")
CHAIN_CHECKED = Gauge("flux_audit_chain_checked_records", "Records the last chain check verified.")


def verify_chain() -> int:
    """Check the whole hash chain of the audit log (as `manage.py audit_verify`); a break is
    logged at ERROR (and so shipped to NATS) and shows as flux_audit_chain_intact 0."""
    verdict = verify()
    CHAIN_INTACT.set(1 if verdict.ok else 0)
    CHAIN_CHECKED.set(verdict.checked)
    if not verdict.ok:
        logger.error("the audit chain is broken at record %s: %s", verdict.first_bad, verdict.reason)
    return verdict.checked
