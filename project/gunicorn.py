"""gunicorn's settings and hooks for bin/web (`--config python:project.gunicorn`)."""

import os

# gunicorn's own lines (start, workers booting, a worker killed) as JSON too when the app's are.
if os.environ.get("LOG_FORMAT") == "json":
    logconfig_dict = {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": "core.request_id.RequestIdLogFilter"}},
        "formatters": {"json": {"()": "pythonjsonlogger.json.JsonFormatter",
                                "format": "%(asctime)s %(levelname)s %(name)s %(request_id)s %(message)s",
                                "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"}}},
        "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "json", "filters": ["request_id"]}},
        "loggers": {"gunicorn.error": {"handlers": ["console"], "level": "INFO", "propagate": False}},
    }


def child_exit(server, worker):
    """A worker is gone: its live gauges (the pool's) stop counting in /metrics (core/metrics.py).
    Its counters and histograms stay: they are totals since the server started."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
