"""Append-only tables: the points ledger, stamp entries, membership history and
the staff audit log. Rows are inserted, never changed or deleted, one by one or
in bulk: a correction is a new row."""

from __future__ import annotations

from django.db import models


class AppendOnlyError(Exception):
    """Code tried to change or delete a row of an append-only table."""


class AppendOnlyQuerySet(models.QuerySet):
    """Reads only: bulk update and delete would rewrite history."""

    def update(self, **kwargs):
        raise AppendOnlyError(self.model.append_only_message)

    def delete(self):
        raise AppendOnlyError(self.model.append_only_message)


class AppendOnlyModel(models.Model):
    """Refuses to save an existing row again or to delete one."""

    append_only_message = "This table is append-only; write a correction."

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if self.pk is not None and not kwargs.get("force_insert"):
            raise AppendOnlyError(self.append_only_message)
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError(self.append_only_message)
