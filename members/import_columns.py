"""Columns the apps above add to the member import (members.imports).

members knows nothing of points or tiers, yet a file from an earlier loyalty
program brings each member's balance and tier with them. rewards registers an
ImportColumns here from RewardsConfig.ready() (the way it plugs into
enrolment through members.services.hooks); members.imports then accepts its
columns, lets it check each row and has it write its part for the members of
a chunk in the same transaction as the members themselves
(members_enroll_many's `created` callback), so a member is imported with
their balance or not at all, and a file re-run skips both together.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from members.models import Member

# (column, message): records a refusal of the row being checked.
RowErrorReport = Callable[[str, str], None]


class ImportPart(Protocol):
    """One app's part in one import run, made once per run (it may read its
    settings then: the tiers, the program's expiry)."""

    def row_clean(self, row: Any, error: RowErrorReport) -> Any:
        """The app's values of one row (a members.imports.CsvRow), checked (None when it has nothing to
        write for it); each problem reported through `error`, which refuses
        the row. Reads nothing per row."""

    def members_imported(
        self, members: list[tuple[Member, Any]], now: dt.datetime
    ) -> None:
        """Write the app's part for members just created in the caller's
        transaction (with row_clean's value of their row, never None), with a
        fixed number of statements."""


@dataclass(frozen=True)
class ImportColumns:
    """Columns an app adds to the member import, with an example value each
    (the downloadable template) and the factory of its ImportPart."""

    app: str
    columns: tuple[str, ...]
    example: tuple[str, ...]
    start: Callable[[], ImportPart]


_REGISTRY: dict[str, ImportColumns] = {}


def import_columns_register(columns: ImportColumns) -> None:
    """Add an app's columns (again: replaced; ready() may run twice)."""
    _REGISTRY[columns.app] = columns


def import_columns_registered() -> list[ImportColumns]:
    return list(_REGISTRY.values())
