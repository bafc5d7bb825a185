"""The notifier's figures for Prometheus, on its own FLUX_METRICS_PORT (core/metrics.py). Imported by
the notifier only: in a web worker these series would show as zeros."""

from __future__ import annotations

from prometheus_client import Counter, Gauge

NOTIFICATIONS_WRITTEN = Counter("flux_notifications_written", "Customer notifications the notifier wrote.")
NOTIFIER_REFUSED = Counter("flux_notifier_events_refused", "Audit messages the notifier refused (unsigned, forged).")
NOTIFIER_LAG = Gauge("flux_notifier_lag", "Messages in the AUDIT stream the notifier has not yet acked.")
