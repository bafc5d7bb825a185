"""Real concurrency in tests: several threads, each on its own database connection, released
together (PostgreSQL row locks, advisory locks and unique constraints are what they exercise)."""

from __future__ import annotations

import threading
from collections.abc import Callable

from django.db import connection


def run_threads(
    count: int, work: Callable[[int, threading.Barrier], object], *, expected: tuple[type[BaseException], ...] = (),
    timeout: float = 120,
) -> list:
    """Run `work(i, barrier)` in `count` threads (the barrier releases them together where `work`
    waits on it) and return, in order, what each returned or the `expected` exception it raised
    (e.g. ApplicationError, when a refusal is a possible outcome). Any other exception, or a thread
    still running after `timeout` seconds (a deadlock), fails the test: nothing is lost in a thread.
    Each thread closes its own database connection when it ends."""
    barrier = threading.Barrier(count)
    results: list = [None] * count

    def target(i: int) -> None:
        try:
            results[i] = work(i, barrier)
        except BaseException as exc:  # noqa: BLE001 - returned or reported below, never lost in a thread
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=target, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
    assert not any(thread.is_alive() for thread in threads), "a thread hung (a deadlock?)"
    errors = [r for r in results if isinstance(r, BaseException) and not isinstance(r, expected)]
    assert not errors, errors
    return results
