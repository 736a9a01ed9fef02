"""Model instances from the rows of a statement written once, for the few
reads every till request makes (its token with its store, the member by card
or phone).

Building and compiling an ORM query cost more CPU than PostgreSQL spent
answering it (about 0.8 ms against 0.15 for the statement, bench/request_cpu.py),
and these run on every request. The statement is written once per model from
its fields; each value goes through the converters the ORM applies (SQLite's
dates and booleans, JSON), so the instances are what a queryset would give.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

from django.db import connection
from django.db.models import Model


def columns_sql(model: type[Model], alias: str) -> str:
    """Every concrete column of `model`, in field order, from table `alias`."""
    quote = connection.ops.quote_name
    return ", ".join(f"{alias}.{quote(f.column)}" for f in model._meta.concrete_fields)


@functools.cache
def _converters(model: type[Model], vendor: str) -> list[tuple[str, object, list]]:
    table = model._meta.db_table
    result = []
    for field in model._meta.concrete_fields:
        col = field.get_col(table)
        converters = connection.ops.get_db_converters(col) + field.get_db_converters(
            connection
        )
        result.append((field.attname, col, converters))
    return result


def instance_from_row(model: type[Model], values: Sequence) -> Model:
    """An instance of `model` from the values of columns_sql(model, ...)."""
    names, converted = [], []
    for (name, col, converters), value in zip(
        _converters(model, connection.vendor), values, strict=True
    ):
        for convert in converters:
            value = convert(value, col, connection)
        names.append(name)
        converted.append(value)
    return model.from_db(connection.alias, names, converted)


def row_fetch(sql: str, params: Sequence) -> tuple | None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()
