"""gunicorn's hooks for bin/web (`--config python:project.gunicorn`)."""


def child_exit(server, worker):
    """A worker is gone: its live gauges (the pool's) stop counting in /metrics (core/metrics.py).
    Its counters and histograms stay: they are totals since the server started."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
