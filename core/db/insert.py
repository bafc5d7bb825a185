"""Insert a few model instances in one statement, without the ORM's query compiler.

Django's bulk_create builds and compiles a query for each call: about 1 ms of CPU on this
machine's CPUs for one row, as much as the database's own work on a whole transfer. A money
movement inserts four kinds of rows (its transaction, entries, audit event, outbox row), so that
compiler was a fifth of a transfer's cost (pyinstrument, /api/v1/transfers/, issue 11). Here the
statement is written from the model's metadata, and each value is prepared by its own field
(`get_db_prep_save`: dates, JSON, foreign keys) exactly as Django would, for PostgreSQL and SQLite
alike. What it skips is what money rows never use: signals (bulk_create sends none either),
conflict handling, and fields the database computes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from django.db import connection, models
from django.db.models import AutoField, BigAutoField, Model

# Above this many rows each column goes as one array (INSERT ... SELECT FROM UNNEST) on PostgreSQL,
# where a VALUES list takes one parameter per cell (a batch of 100 transfers: 76 ms of CPU with
# arrays, 95 ms with VALUES); on SQLite, Django's bulk_create.
SMALL = 20

# Values these fields hold already as the database driver takes them (Flux sets them from Python
# ints, strs, bools and aware datetimes): their per-value preparation is skipped on the large path.
# Django's prepared every cell, 0.55 s of CPU for a chunk of 1,000 imported lines (their
# transactions and entries), more than the database's own work on it.
_AS_IS = (
    models.IntegerField, models.CharField, models.TextField, models.BooleanField, models.DateTimeField,
    models.ForeignKey,
)


def insert_all(objs: Sequence[Model]) -> None:
    """INSERT these new instances of one model, in order, and set their primary keys (RETURNING)
    when the database generates them. Their related objects must already be saved."""
    if not objs:
        return
    model = type(objs[0])
    if len(objs) > SMALL:
        if connection.vendor == "postgresql":
            _insert_unnest(objs)
        else:
            model._default_manager.bulk_create(objs)
        return
    sql, params = insert_sql(objs)
    _run(objs, sql, params, _generated(model))


def _generated(model: type[Model]) -> bool:
    return isinstance(model._meta.pk, AutoField | BigAutoField)


def insert_sql(objs: Sequence[Model], *, expressions: Mapping[str, str] | None = None) -> tuple[str, list]:
    """The statement insert_all runs for a few rows (INSERT ... VALUES ... RETURNING the generated
    keys), and its parameters, to run as part of a larger one (core.db.write_together).

    `expressions` gives fields an SQL expression instead of the instances' values, the same for
    every row: `{"transaction": "(SELECT id FROM t)"}` takes the key an earlier part of the
    statement generated. Those fields' related objects need not be saved."""
    expressions = expressions or {}
    model = type(objs[0])
    meta = model._meta
    generated = _generated(model)
    fields = [field for field in meta.concrete_fields if not (generated and field.primary_key)]
    valued = [field for field in fields if field.name not in expressions]
    quote = connection.ops.quote_name
    columns = ", ".join(quote(field.column) for field in fields)
    returning = f" RETURNING {quote(meta.pk.column)}" if generated else ""
    params: list = []
    for obj in objs:
        # A foreign key set to an object saved since (a transaction inserted just before its
        # entries) takes that object's new primary key, as bulk_create does.
        obj._prepare_related_fields_for_save(operation_name="insert_all", fields=valued if expressions else None)
        params.extend(field.get_db_prep_save(field.pre_save(obj, True), connection) for field in valued)
    row = "(" + ", ".join(expressions.get(field.name, "%s") for field in fields) + ")"
    return f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES {', '.join([row] * len(objs))}{returning}", params


def write_together(parts: Sequence[tuple[str, str, list]], select: str) -> tuple:
    """Run several statements as one, on PostgreSQL: `parts` are (name, statement, parameters), each
    statement an INSERT or UPDATE that a later part or `select` may read by its name (its RETURNING
    rows); `select` is the final SELECT over them. Returns its one row.

    One round trip where each statement took its own: a transfer's transaction, entries, balances,
    audit event and outbox row go in one statement instead of five (issue 11). PostgreSQL runs
    every part exactly once, whether read or not, in one snapshot; the foreign keys are checked
    when the transaction commits (Django declares them DEFERRABLE INITIALLY DEFERRED)."""
    sql = "WITH " + ", ".join(f"{name} AS ({statement})" for name, statement, _ in parts) + " " + select
    with connection.cursor() as cursor:
        cursor.execute(sql, [param for _, _, params in parts for param in params])
        return cursor.fetchone()


def mark_saved(objs: Sequence[Model], pks: Sequence | None = None) -> None:
    """Mark instances inserted by write_together as saved, with their generated keys if given."""
    for index, obj in enumerate(objs):
        if pks is not None:
            obj.pk = pks[index]
        obj._state.adding = False
        obj._state.db = connection.alias


def _run(objs: Sequence[Model], sql: str, params: list, generated: bool) -> None:
    """Run the INSERT, give each object its generated key (RETURNING, in order), mark them saved."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        if generated:
            for obj, (pk,) in zip(objs, cursor.fetchall(), strict=True):
                obj.pk = pk
    for obj in objs:
        obj._state.adding = False
        obj._state.db = connection.alias


def _insert_unnest(objs: Sequence[Model]) -> None:
    """PostgreSQL: one INSERT ... SELECT FROM UNNEST of one array per column, RETURNING the keys
    in order (as Django's own bulk_create does for such columns)."""
    meta = type(objs[0])._meta
    generated = isinstance(meta.pk, AutoField | BigAutoField)
    fields = [field for field in meta.concrete_fields if not (generated and field.primary_key)]
    columns: list[list] = [[] for _ in fields]
    for obj in objs:
        obj._prepare_related_fields_for_save(operation_name="insert_all")
        for values, field in zip(columns, fields, strict=True):
            value = field.pre_save(obj, True)
            values.append(value if isinstance(field, _AS_IS) else field.get_db_prep_save(value, connection))
    quote = connection.ops.quote_name
    arrays = ", ".join(f"%s::{field.db_type(connection)}[]" for field in fields)
    returning = f" RETURNING {quote(meta.pk.column)}" if generated else ""
    _run(objs, f"INSERT INTO {quote(meta.db_table)} ({', '.join(quote(field.column) for field in fields)}) "
         f"SELECT * FROM UNNEST({arrays}){returning}", columns, generated)
