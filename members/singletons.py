"""One-row settings tables (program, bonus, staff controls, delivery settings):
the row has pk 1. Reading never writes: before the row exists (a migration
creates most of them; a transactional test empties the table) a read gets an
unsaved row with the defaults, and the owning service's `*_ensure` creates it."""

from __future__ import annotations

from typing import TypeVar

from django.db import models

RowT = TypeVar("RowT", bound=models.Model)


def singleton_read(model: type[RowT], **defaults) -> RowT:
    """The row, or an unsaved one with the defaults (for selectors)."""
    row = model.objects.filter(pk=1).first()
    return row if row is not None else model(pk=1, **defaults)


def singleton_ensure(model: type[RowT], **defaults) -> RowT:
    """The row, created with the defaults when missing (for services)."""
    row, _created = model.objects.get_or_create(pk=1, defaults=defaults)
    return row
