"""One-row settings tables (program, bonus, staff controls, delivery settings):
the row has pk 1. Reading never writes: before the row exists (a migration
creates most of them; a transactional test empties the table) a read gets an
unsaved row with the defaults, and the owning service's `*_ensure` creates it."""

from __future__ import annotations

import functools
from typing import TypeVar

from django.db import DEFAULT_DB_ALIAS, connection, models, router

from members.rows import columns_sql, instance_from_row, row_fetch

RowT = TypeVar("RowT", bound=models.Model)


@functools.cache
def _row_sql(model: type[models.Model], vendor: str) -> str:
    quote = connection.ops.quote_name
    return (
        f"SELECT {columns_sql(model, 't')} FROM {quote(model._meta.db_table)} t"  # noqa: S608 - names from the model
        f" WHERE t.{quote(model._meta.pk.column)} = 1"
    )


def singleton_read(model: type[RowT], **defaults) -> RowT:
    """The row, or an unsaved one with the defaults (for selectors). Read by a
    statement written once (members.rows): the program settings are read on
    every customer page, and compiling the ORM's query cost more than it."""
    if router.db_for_read(model) == DEFAULT_DB_ALIAS:
        values = row_fetch(_row_sql(model, connection.vendor), [])
        row = instance_from_row(model, values) if values is not None else None
    else:  # a replica (members.replica): the ORM routes it
        row = model.objects.filter(pk=1).first()
    return row if row is not None else model(pk=1, **defaults)


def singleton_ensure(model: type[RowT], **defaults) -> RowT:
    """The row, created with the defaults when missing (for services)."""
    row, _created = model.objects.get_or_create(pk=1, defaults=defaults)
    return row
