"""The API's rate limits, counted with one atomic increment per request.

DRF's throttles keep a list of request times in the cache and read it, then write it back: two
workers reading at once both allow a request the limit should refuse, and on the database cache
(production's before issue 11) every request cost a SELECT, a SELECT COUNT(*) of the cache table
and a write. These throttles keep DRF's classes, scopes, rates and 429 answer (`throttled`, with
Retry-After: core/api/exceptions.py) but count in a fixed window that opens at a caller's first
request and lasts the rate's period:

- in Redis (REDIS_URL set: settings "Cache"), INCR and EXPIRE NX in one Lua script (one command), so
  the count is exact across every worker process and machine sharing that Redis;
- in local memory otherwise (development, tests), under a lock: exact within one process, each
  worker process counting on its own.

A window lets at most `num_requests` through, then refuses until it ends (Retry-After: the
seconds left). If Redis cannot be reached the request is let through and a warning logged: a rate
limit must not take the API down with it."""

from __future__ import annotations

import logging
import math
import threading
import time

from django.core.cache import DEFAULT_CACHE_ALIAS, caches
from rest_framework import throttling

logger = logging.getLogger("flux.api.throttling")

_local_lock = threading.Lock()


def _is_redis(backend) -> bool:
    """Whether `backend` (a cache backend, not django.core.cache.cache: that is a proxy whose type
    says nothing of the backend behind it) is django-redis."""
    return type(backend).__module__.startswith("django_redis")


# INCR, EXPIRE NX and PTTL run in Redis as one script: atomic as MULTI/EXEC was, in one command
# (EVALSHA) where the transaction took five, and a third of the Python (py-spy, issue 11).
_COUNT_SCRIPT = """
local count = redis.call('INCR', KEYS[1])
redis.call('EXPIRE', KEYS[1], ARGV[1], 'NX')
return {count, redis.call('PTTL', KEYS[1])}
"""


# The count script, on one Redis client per process and cache settings. Under ASGI each request
# runs in a context of its own, where `caches[...]` builds a new cache backend, a new django-redis
# client and registers the script again: 9 % of a loaded worker's Python (py-spy, 16 clients,
# issue 11). A redis-py client is thread-safe (its connection pool hands each command a connection),
# so every request of the process shares this one.
_scripts: dict[str, object] = {}


def _redis_script(backend):
    """The count script (EVALSHA, loaded again if Redis forgot it) on this process's client for
    the Redis server and options `backend` (a django-redis cache) was built with."""
    settings_key = repr((backend._server, backend._params.get("OPTIONS")))
    script = _scripts.get(settings_key)
    if script is None:
        script = _scripts[settings_key] = backend.client.get_client(write=True).register_script(_COUNT_SCRIPT)
    return script


def count_hit(key: str, period: int) -> tuple[int, float]:
    """Count one request against `key`; return the requests counted in the current window (this
    one included) and the seconds until that window ends. A window opens at the first request
    after the previous one ended and lasts `period` seconds."""
    backend = caches[DEFAULT_CACHE_ALIAS]
    if _is_redis(backend):
        count, ttl_ms = _redis_script(backend)(keys=[backend.make_and_validate_key(key)], args=[period])
        return int(count), max(int(ttl_ms), 0) / 1000
    with _local_lock:
        now = time.time()
        window = backend.get(key)
        if window is None or window[1] <= now:
            window = (0, now + period)
        window = (window[0] + 1, window[1])
        backend.set(key, window, timeout=math.ceil(window[1] - now))
    return window[0], window[1] - now


class AtomicRateThrottle(throttling.SimpleRateThrottle):
    """SimpleRateThrottle with count_hit instead of its read-then-write history. DRF's own
    subclasses come first in the classes below, so their allow_request (the scoped throttle picks
    its rate from the view) runs, then this one."""

    remaining: float = 0.0

    def allow_request(self, request, view) -> bool:
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        try:
            count, self.remaining = count_hit(self.key, self.duration)
        except Exception:  # Redis unreachable or timing out: let the request through
            logger.warning("rate limit not counted: the cache is unreachable", exc_info=True)
            return True
        return count <= self.num_requests

    def wait(self) -> float:
        return self.remaining


class AnonRateThrottle(throttling.AnonRateThrottle, AtomicRateThrottle):
    """Anonymous callers, per client address (DRF's NUM_PROXIES decides which)."""


class UserRateThrottle(throttling.UserRateThrottle, AtomicRateThrottle):
    """Signed-in callers, per user."""


class ScopedRateThrottle(throttling.ScopedRateThrottle, AtomicRateThrottle):
    """A view's own `throttle_scope` (the token endpoints' stricter "auth" rate)."""
