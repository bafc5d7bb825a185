"""The audit pipeline's own figures for Prometheus (core/metrics.py): the relay and the consumer
count what they publish and store, and the consumer reports its lag and the chain's length, on
their own FLUX_METRICS_PORT. (The outbox's backlog, which the web's /metrics shows too, is
audit.health.OutboxCollector.) Imported by the relay and the consumer only: in a web worker these
series would show as zeros."""

from __future__ import annotations

from prometheus_client import Counter, Gauge

EVENTS_PUBLISHED = Counter("flux_audit_events_published", "Audit events the relay published (JetStream acked).")
EVENTS_STORED = Counter("flux_audit_events_stored", "Audit events the consumer stored in the audit log.")
EVENTS_REFUSED = Counter("flux_audit_events_refused", "Messages the consumer refused (unsigned, forged, unreadable).")
CONSUMER_LAG = Gauge("flux_audit_consumer_lag", "Messages in the AUDIT stream the consumer has not yet acked.")
CHAIN_LENGTH = Gauge("flux_audit_chain_length", "Records in the hash-chained audit log (the head's sequence).")
