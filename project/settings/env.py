"""Reading the environment: the settings' helpers and the database (12-factor), apart from
base.py's long list of settings. Every settings module gets these through base.py."""

import os
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


# DATABASE_URL selects the database (PostgreSQL in CI and production). Without it, a SQLite file
# in var/ serves development; several processes write to it, so it runs in WAL mode with
# IMMEDIATE transactions (writers queue instead of failing with "database is locked").
# Development's own files (the SQLite database, the generated SECRET_KEY): var/ unless FLUX_VAR_DIR
# names another directory.
VAR_DIR = Path(os.environ.get("FLUX_VAR_DIR") or BASE_DIR / "var")
SQLITE_OPTIONS = {
    "transaction_mode": "IMMEDIATE",
    "timeout": 20,
    "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
}
# PostgreSQL connections: a bounded pool per process (psycopg_pool through Django), never one
# persistent connection per thread. Under ASGI each request runs its synchronous code on a thread
# of its own, so CONN_MAX_AGE kept a connection per thread and 64 clients opened 97 of the
# machine's 100 (issue 11). Each process opens at most FLUX_DB_POOL_MAX connections; the
# connection budget is WEB_CONCURRENCY x FLUX_DB_POOL_MAX for the web server, plus one or two each
# for the relay and the consumer (docs/operations/capacity.md). A request that gets no connection
# within FLUX_DB_POOL_TIMEOUT seconds is answered 503 service_unavailable with Retry-After
# (core/db/pool.py), having applied nothing.
# Each process names itself to PostgreSQL (pg_stat_activity.application_name: flux-web,
# flux-relay, flux-consumer...), so its connections can be counted.
FLUX_SERVICE = os.environ.get("FLUX_SERVICE", "web")


def database_from_env(*, pool_max: int = 4, pool_timeout: float = 5.0) -> dict:
    """The default database from DATABASE_URL; FLUX_DB_POOL_MIN, FLUX_DB_POOL_MAX and
    FLUX_DB_POOL_TIMEOUT (seconds) override the pool's defaults (1, `pool_max`, `pool_timeout`)."""
    url = os.environ.get("DATABASE_URL")
    if url:
        config = dj_database_url.parse(url)
        if config["ENGINE"] == "django.db.backends.sqlite3":
            config["CONN_MAX_AGE"] = int(os.environ.get("CONN_MAX_AGE", "60"))
            config["OPTIONS"] = dict(SQLITE_OPTIONS)
        elif config["ENGINE"] == "django.db.backends.postgresql":
            # The pool keeps the connections: Django closes (returns) its connection at the end
            # of each request, which the pool requires (CONN_MAX_AGE 0).
            config["CONN_MAX_AGE"] = 0
            pool_max = int(os.environ.get("FLUX_DB_POOL_MAX", pool_max))
            config["OPTIONS"] = {
                **config.get("OPTIONS", {}),
                "application_name": f"flux-{FLUX_SERVICE}"[:63],
                # Server-side parameters and prepared statements: each pooled connection parses and
                # plans a statement once, not on every request (a transfer's database CPU: 3.3 ->
                # 2.3 ms, issue 11). No PgBouncer in transaction mode in front, which would mix up
                # connections' prepared statements.
                "server_side_binding": True,
                "prepare_threshold": 5,
                "pool": {
                    "min_size": min(int(os.environ.get("FLUX_DB_POOL_MIN", "1")), pool_max),
                    "max_size": pool_max,
                    "timeout": float(os.environ.get("FLUX_DB_POOL_TIMEOUT", pool_timeout)),
                    "name": f"flux-{FLUX_SERVICE}",
                },
            }
        return config
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": VAR_DIR / "flux.sqlite3",
        "OPTIONS": dict(SQLITE_OPTIONS),
    }
