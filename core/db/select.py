"""Read model instances with a WHERE clause written in SQL, without the ORM's query compiler.

The reads every money movement makes (its accounts, locked) went through a QuerySet: building
the filter and compiling it cost about 0.8 ms of CPU per transfer on this machine, several times
the database's own work on the row (py-spy, POST /api/v1/transfers/, issue 11). Here the column
list comes from the model's metadata once per process, each value goes through the converters the
ORM would apply (SQLite's dates, for one), and the instances are built with `Model.from_db`, as
a QuerySet builds them: the same objects, for PostgreSQL and SQLite alike.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence

from django.db import connections
from django.db.models import Model


@functools.cache
def _columns(model: type[Model], using: str) -> tuple[str, list[str], list[tuple[int, list[Callable]]]]:
    """The select list, the attribute names in its order and each column's converters."""
    connection = connections[using]
    quote = connection.ops.quote_name
    table = model._meta.db_table
    fields = model._meta.concrete_fields
    converters = []
    for index, field in enumerate(fields):
        column = field.get_col(table)
        found = connection.ops.get_db_converters(column) + column.get_db_converters(connection)
        if found:
            converters.append((index, [(converter, column) for converter in found]))
    select_list = ", ".join(f"{quote(table)}.{quote(field.column)}" for field in fields)
    return select_list, [field.attname for field in fields], converters


def select[M: Model](
    model: type[M],
    where: str,
    params: Sequence,
    *,
    order_by: str = "",
    lock: bool = False,
    extra: Mapping[str, str] | None = None,
    using: str = "default",
) -> list[M]:
    """`model`'s rows matching `where` (SQL with %s placeholders), in `order_by`'s order (SQL),
    locked FOR UPDATE when `lock` (where the database has row locks: SQLite's IMMEDIATE
    transactions lock it all). `extra` maps attribute names to SQL expressions read in the same
    statement and set on each instance as they come (a scalar subquery in the select list is not
    locked by FOR UPDATE)."""
    connection = connections[using]
    select_list, attnames, converters = _columns(model, using)
    extra = extra or {}
    if extra:
        select_list += "".join(f", ({expression})" for expression in extra.values())
    sql = f"SELECT {select_list} FROM {connection.ops.quote_name(model._meta.db_table)} WHERE {where}"
    if order_by:
        sql += f" ORDER BY {order_by}"
    if lock and connection.features.has_select_for_update:
        sql += " FOR UPDATE"
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    found = []
    for row in rows:
        if converters:
            row = list(row)
            for index, column_converters in converters:
                for converter, column in column_converters:
                    row[index] = converter(row[index], column, connection)
        instance = model.from_db(using, attnames, row[: len(attnames)])
        for name, value in zip(extra, row[len(attnames) :], strict=True):
            setattr(instance, name, value)
        found.append(instance)
    return found
