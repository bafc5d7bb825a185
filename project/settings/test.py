"""The test suite: PostgreSQL when DATABASE_URL is set (CI), SQLite otherwise."""

from .base import *  # noqa: F401,F403

DEBUG = False
SECRET_KEY = "test-only-key-0123456789-abcdefghijklmnopqrstuvwxyz"
ALLOWED_HOSTS = ["*"]
# Fast hashing in tests; production keeps Argon2 (base settings).
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] = {  # noqa: F405
    "user": "100000/min",
    "anon": "100000/min",
    "auth": "100000/min",
    "payee_check": "100000/min",
}

# Threaded tests (concurrency) hold one connection per thread until the thread ends: a roomier
# pool than production's, unless FLUX_DB_POOL_* say otherwise (the capacity test's own server).
DATABASES = {"default": database_from_env(pool_max=16, pool_timeout=30)}  # noqa: F405

# Counts in each test process's memory, whatever REDIS_URL says: tests clear the cache, which on a
# shared Redis would empty it for everyone. project/tests/test_throttling.py starts its own Redis.
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "flux-tests"}}

# Pipeline tests run the relay and consumer as real processes against the test database, so on
# SQLite it is a file (pytest-xdist gives each worker its own copy).
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test.sqlite3")}  # noqa: F405
FLUX_RELAY_SWEEP_SECONDS = 0.1
# Tests that ship logs build their own handler against their own nats-server.
LOGGING["root"]["handlers"] = ["console"]  # noqa: F405
# No line per request in the tests' output (project/tests/test_observability.py turns it on to
# check it, core/tests/test_web_server.py through the environment).
FLUX_ACCESS_LOG = env_bool("FLUX_ACCESS_LOG", False)  # noqa: F405
# No process publishes performance snapshots unless a test asks for them (FLUX_PERFORMANCE_SNAPSHOTS=1).
FLUX_PERFORMANCE_SNAPSHOTS = env_bool("FLUX_PERFORMANCE_SNAPSHOTS", False)  # noqa: F405
