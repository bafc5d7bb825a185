"""Ship application logs of WARNING and above to NATS (`logs.<service>.<level>`) as JSON, without
ever blocking the code that logs: records go into a bounded in-memory queue that a background
thread drains into NATS. When the queue is full or NATS is unreachable, records are dropped and
counted (each shipped record carries its process's drop count, shown on the NATS dashboard)."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import queue
import socket
import threading
from datetime import UTC, datetime

# Loggers whose records must never be shipped: the NATS client's own (a NATS outage would feed
# itself) and this module's.
IGNORED_LOGGERS = ("nats", "flux.logshipping", "asyncio")
# How often the shipping thread looks for new records when idle.
POLL_SECONDS = 0.05


class NatsLogHandler(logging.Handler):
    def __init__(self, service: str | None = None, capacity: int = 1000, level: int = logging.WARNING) -> None:
        super().__init__(level=level)
        self.service = service or os.environ.get("FLUX_SERVICE", "web")
        self.buffer: queue.Queue[dict] = queue.Queue(maxsize=capacity)
        self.dropped = 0
        self.shipped = 0
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    # Called by the code that logs: never waits.
    def emit(self, record: logging.LogRecord) -> None:
        if record.name.startswith(IGNORED_LOGGERS):
            return
        try:
            entry = {
                "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
                "service": self.service,
                "level": record.levelname.lower(),
                "logger": record.name,
                "message": record.getMessage(),
                "host": socket.gethostname(),
                "pid": os.getpid(),
            }
            if record.exc_info:
                entry["exception"] = logging.Formatter().formatException(record.exc_info)[-4000:]
            self.buffer.put_nowait(entry)
        except queue.Full:
            self.dropped += 1
        except Exception:
            self.handleError(record)
            return
        self._ensure_thread()

    def _ensure_thread(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._drain, name="flux-log-shipper", daemon=True)
                self._thread.start()

    def _drain(self) -> None:
        asyncio.run(self._ship_forever())

    async def _ship_forever(self) -> None:
        from audit.nats import connect, ensure_stream, logs_stream_config

        nc = None
        while True:
            entry = await self._next_entry()
            if nc is None or not nc.is_connected:
                try:
                    nc = await connect(f"flux-logs-{self.service}", max_reconnect_attempts=0, connect_timeout=1)
                    await ensure_stream(nc.jetstream(timeout=2), logs_stream_config())
                except Exception:
                    nc = None
                    self.dropped += 1 + self._discard_waiting()
                    await asyncio.sleep(1)
                    continue
            entry["dropped_total"] = self.dropped
            try:
                await nc.publish(
                    f"logs.{self.service}.{entry['level']}",
                    json.dumps(entry).encode(),
                )
                self.shipped += 1
                if self.buffer.empty():
                    await nc.flush(timeout=2)
            except Exception:
                self.dropped += 1
                nc = None

    async def _next_entry(self) -> dict:
        """The next record, polled: a thread blocked in Queue.get (asyncio.to_thread) would be
        joined at interpreter exit and keep every process that ever logged a warning alive."""
        while True:
            try:
                return self.buffer.get_nowait()
            except queue.Empty:
                await asyncio.sleep(POLL_SECONDS)

    def _discard_waiting(self) -> int:
        """NATS is down: drop what waits rather than hold memory (counted)."""
        discarded = 0
        while True:
            try:
                self.buffer.get_nowait()
                discarded += 1
            except queue.Empty:
                return discarded


def shipping_handler() -> NatsLogHandler | None:
    """The process's handler, if logging is configured with one (for the dashboard's counters)."""
    for handler in logging.getLogger().handlers:
        if isinstance(handler, NatsLogHandler):
            return handler
    return None
