"""Settings for operating Flux: logging (with the request id), the scheduler's jobs and the
metrics. Imported by base.py."""

import os

from .env import env_bool

# --- Logging --------------------------------------------------------------------------------
# Every line carries the id of the request (or scheduler job) it was written for
# (core/request_id.py). LOG_FORMAT=json writes one JSON object per line (production's default).
LOG_FORMAT = os.environ.get("LOG_FORMAT", "plain")
# One line per request (flux.access: method, path, status, duration), written by Django with the request id.
FLUX_ACCESS_LOG = env_bool("FLUX_ACCESS_LOG", True)
# Where those lines go: the console with the rest (empty, the default: production's stdout), or
# this file (`make run`: var/log/access.log, so that the terminal keeps the warnings and errors).
# A file costs the server a write per request; through honcho's pipe, each line also cost honcho's
# own processes about 0.2 ms of CPU (8 % of a core at 400 requests a second: issue 11).
FLUX_ACCESS_LOG_FILE = os.environ.get("FLUX_ACCESS_LOG_FILE", "")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "core.request_id.RequestIdLogFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s %(request_id)s %(message)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "json" if LOG_FORMAT == "json" else "plain",
                    "filters": ["request_id"]},
        # WARNING and above also go to NATS (logs.<service>.<level>), never blocking (see
        # audit/logshipping.py). FLUX_LOG_SHIPPING=0 turns it off.
        "nats": {"class": "audit.logshipping.NatsLogHandler", "level": "WARNING", "filters": ["request_id"]},
    },
    "root": {
        "handlers": ["console", "nats"] if env_bool("FLUX_LOG_SHIPPING", True) else ["console"],
        "level": os.environ.get("LOG_LEVEL", "INFO"),
    },
    # Django's records go to the root handlers only (its own console handler would print them twice).
    "loggers": {"django": {"level": "INFO"}},
}
if FLUX_ACCESS_LOG_FILE:
    # WatchedFileHandler: reopened when logrotate moves the file away.
    LOGGING["handlers"]["access_file"] = {
        "class": "logging.handlers.WatchedFileHandler", "filename": FLUX_ACCESS_LOG_FILE,
        "formatter": "json" if LOG_FORMAT == "json" else "plain", "filters": ["request_id"],
    }
    LOGGING["loggers"]["flux.access"] = {"handlers": ["access_file"], "level": "INFO", "propagate": False}

# --- Scheduler (core/scheduler.py, `manage.py run_scheduler`) ---------------------------------
# (name, function, every how many seconds). Each job is safe to run twice and from two schedulers.
FLUX_SCHEDULE = [
    ("expire_pending", "banking.jobs.expire_pending", int(os.environ.get("FLUX_EXPIRE_PENDING_EVERY_SECONDS", "60"))),
    ("purge_idempotency_keys", "core.idempotency.purge_expired_keys", 3600),
    # Sends the transfers to other banks at the daily cut-off (FLUX_CLEARING_CUTOFF), once a day.
    ("clearing_at_cutoff", "banking.jobs.clearing_at_cutoff", 60),
    # Reads the whole audit log: hourly, and alerted on (docs/operations/flux-alerts.yml).
    ("verify_audit_chain", "audit.jobs.verify_chain", int(os.environ.get("FLUX_VERIFY_CHAIN_EVERY_SECONDS", "3600"))),
]

# --- Metrics (core/metrics.py) -------------------------------------------------------------
# GET /metrics asks for `Authorization: Bearer <token>` when this is set.
FLUX_METRICS_TOKEN = os.environ.get("FLUX_METRICS_TOKEN", "")
# The relay, the consumer and the scheduler serve their own /metrics here when the port is set
# (each its own port: the Procfiles give them one).
FLUX_METRICS_PORT = int(os.environ.get("FLUX_METRICS_PORT") or 0)
FLUX_METRICS_HOST = os.environ.get("FLUX_METRICS_HOST", "127.0.0.1")
# Every process publishes its live figures on NATS (metrics.<service>.<instance>) for the
# performance page (audit/performance.py).
FLUX_PERFORMANCE_SNAPSHOTS = env_bool("FLUX_PERFORMANCE_SNAPSHOTS", True)
