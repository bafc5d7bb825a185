"""`make run`'s settings (DEBUG on) keep no SQL log (core/db/backends): Django's backends would render
and keep every statement in connection.queries for a debugging tool Flux does not have. Tests that
count queries still see them (CaptureQueriesContext), and FLUX_LOG_QUERIES=1 brings Django's log
back. Checked in a new process, as `make run`'s processes load the settings, on SQLite (the
default) and on PostgreSQL."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from django.conf import settings
from django.db import connection

REPORT = """
import json, django
django.setup()
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
with connection.cursor() as cursor:
    cursor.execute("SELECT 1")
logged = len(connection.queries)
with CaptureQueriesContext(connection) as captured:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 2")
print(json.dumps({"debug": settings.DEBUG, "vendor": connection.vendor,
                  "engine": settings.DATABASES["default"]["ENGINE"], "logged": logged,
                  "captured": [query["sql"] for query in captured.captured_queries]}))
"""


def report(tmp_path, **env: str) -> dict:
    environment = {name: value for name, value in os.environ.items()
                   if name not in {"DATABASE_URL", "FLUX_LOG_QUERIES", "DJANGO_SETTINGS_MODULE"}}
    environment |= {"DJANGO_SETTINGS_MODULE": "project.settings.dev", "FLUX_VAR_DIR": str(tmp_path),
                    "FLUX_LOG_SHIPPING": "0", **env}
    done = subprocess.run([sys.executable, "-c", REPORT], cwd=settings.BASE_DIR, env=environment,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def postgres_url() -> str:
    if connection.vendor != "postgresql":
        pytest.skip("the suite runs on SQLite here")
    database = settings.DATABASES["default"]
    return f"postgres://{database['USER']}@{database['HOST'] or '127.0.0.1'}:{database['PORT'] or 5432}/postgres"


def test_development_settings_log_no_sql_on_sqlite_but_a_capture_sees_it(tmp_path):
    seen = report(tmp_path)

    assert seen["debug"] is True and seen["vendor"] == "sqlite"
    assert seen["engine"] == "core.db.backends.sqlite3"
    assert seen["logged"] == 0
    assert seen["captured"] == ["SELECT 2"]


def test_development_settings_log_no_sql_on_postgresql_but_a_capture_sees_it(tmp_path):
    seen = report(tmp_path, DATABASE_URL=postgres_url())

    assert seen["debug"] is True and seen["vendor"] == "postgresql"
    assert seen["engine"] == "core.db.backends.postgresql"
    assert seen["logged"] == 0
    assert seen["captured"] == ["SELECT 2"]


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_flux_log_queries_keeps_djangos_own_backend_and_its_log(tmp_path, database):
    env = {"FLUX_LOG_QUERIES": "1"} | ({"DATABASE_URL": postgres_url()} if database == "postgresql" else {})

    seen = report(tmp_path, **env)

    assert seen["engine"] == f"django.db.backends.{'sqlite3' if database == 'sqlite' else 'postgresql'}"
    assert seen["logged"] == 1
    assert seen["captured"] == ["SELECT 2"]
