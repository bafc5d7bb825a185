"""Django's SQLite backend without DEBUG's query log (core/db/backends/__init__.py)."""

from django.db.backends.sqlite3 import base

from core.db.backends.quiet import QuietDebugMixin


class DatabaseWrapper(QuietDebugMixin, base.DatabaseWrapper):
    pass
