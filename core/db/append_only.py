"""Database triggers that make a table append-only: UPDATE and DELETE are refused by the
database itself, whoever connects (PostgreSQL in production; SQLite gets the same rule)."""

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import migrations

# Every table made append-only by a migration below; tests use it to let Django's flush through.
APPEND_ONLY_TABLES = ("banking_entry", "audit_auditevent", "audit_auditlogrecord")

PG_FUNCTION = """
CREATE OR REPLACE FUNCTION flux_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
"""


def _sqlite_trigger(table: str, op: str) -> str:
    return (
        f"CREATE TRIGGER {table}_append_only_{op.lower()} BEFORE {op} ON {table} "
        f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: {op} refused'); END;"
    )


def _forward(table: str):
    def apply(apps, schema_editor):
        vendor = schema_editor.connection.vendor
        if vendor == "postgresql":
            schema_editor.execute(PG_FUNCTION, params=None)
            schema_editor.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                f"FOR EACH ROW EXECUTE FUNCTION flux_refuse_change();"
            )
            schema_editor.execute(
                f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                f"FOR EACH STATEMENT EXECUTE FUNCTION flux_refuse_change();"
            )
        elif vendor == "sqlite":
            for op in ("UPDATE", "DELETE"):
                schema_editor.execute(_sqlite_trigger(table, op))

    return apply


def _backward(table: str):
    def revert(apps, schema_editor):
        vendor = schema_editor.connection.vendor
        if vendor == "postgresql":
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table};")
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table};")
        elif vendor == "sqlite":
            for op in ("update", "delete"):
                schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_append_only_{op};")

    return revert


def append_only(table: str) -> migrations.RunPython:
    """A migration operation installing the append-only triggers on `table`."""
    return migrations.RunPython(_forward(table), _backward(table))


@contextmanager
def flush_allowed(connection) -> Iterator[None]:
    """Tests only: let Django's end-of-test flush (TRUNCATE on PostgreSQL, DELETE on SQLite) empty
    the append-only tables, then put the protection back. Nothing else ever needs this."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            for table in APPEND_ONLY_TABLES:
                cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER {table}_no_truncate")
        try:
            yield
        finally:
            with connection.cursor() as cursor:
                for table in APPEND_ONLY_TABLES:
                    cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER {table}_no_truncate")
    elif connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            for table in APPEND_ONLY_TABLES:
                cursor.execute(f"DROP TRIGGER IF EXISTS {table}_append_only_delete")
        try:
            yield
        finally:
            with connection.cursor() as cursor:
                for table in APPEND_ONLY_TABLES:
                    cursor.execute(_sqlite_trigger(table, "DELETE"))
    else:
        yield
