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

from collections.abc import Sequence

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
    meta = model._meta
    generated = isinstance(meta.pk, AutoField | BigAutoField)
    fields = [field for field in meta.concrete_fields if not (generated and field.primary_key)]
    quote = connection.ops.quote_name
    columns = ", ".join(quote(field.column) for field in fields)
    returning = f" RETURNING {quote(meta.pk.column)}" if generated else ""
    params: list = []
    for obj in objs:
        # A foreign key set to an object saved since (a transaction inserted just before its
        # entries) takes that object's new primary key, as bulk_create does.
        obj._prepare_related_fields_for_save(operation_name="insert_all")
        params.extend(field.get_db_prep_save(field.pre_save(obj, True), connection) for field in fields)
    placeholders = "(" + ", ".join(["%s"] * len(fields)) + ")"
    _run(objs, f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES {', '.join([placeholders] * len(objs))}"
         f"{returning}", params, generated)


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
