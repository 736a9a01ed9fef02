"""Daily store sales from a CSV file (the tills' reports, an accounting export):
store code, date, total, and optionally the number of receipts, one row per
store and day, so that nobody types them in.

Every row is checked like a till's report (store_sales_check: no future day,
an amount with at most two decimals); a bad row is reported with its line,
column and message and the others are written. A day already there with the
same figures is skipped; with other figures the file's replace them (a staff
upload corrects like an edit in the admin) and a note says what they were. A
dry run is the import in one transaction rolled back: its report is what the
import would give.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.utils.translation import gettext as _

from analytics.models import StoreSales
from analytics.services.inputs import store_sales_check, store_sales_write_many
from members.errors import InvalidInput
from members.formatting import number_format
from members.imports import (
    CHUNK,
    CsvRow,
    ImportResult,
    Progress,
    RowError,
    chunks,
    csv_read,
    csv_template,
    import_run,
    stores_by_code,
)
from members.models import Store, User
from members.numbers import is_plain_whole
from rewards.services.inputs import amount_clean

STORE_SALES_COLUMNS = ("store", "date", "total", "receipts")
STORE_SALES_REQUIRED = ("store", "date", "total")


def store_sales_csv_read(content: bytes | str) -> list[CsvRow]:
    return csv_read(content, required=STORE_SALES_REQUIRED, known=STORE_SALES_COLUMNS)


def store_sales_template() -> list[list[str]]:
    return csv_template(STORE_SALES_COLUMNS, ("main", "2026-03-14", "18250.40", "412"))


@dataclass(frozen=True)
class _Day:
    line: int
    store: Store
    day: dt.date
    total: Decimal
    receipts: int


def _row_clean(
    row: CsvRow, stores: dict[str, Store], result: ImportResult
) -> _Day | None:
    errors = len(result.errors)
    store = stores.get(row.get("store").lower())
    if store is None:
        result.error(
            row.line,
            "store",
            _("No store has the code “%(code)s”.") % {"code": row.get("store")},
        )
    day = None
    try:
        day = dt.date.fromisoformat(row.get("date"))
    except ValueError:
        result.error(
            row.line,
            "date",
            _("“%(value)s” is not a date such as 2026-03-14.")
            % {"value": row.get("date")},
        )
    total = None
    try:
        total = amount_clean(row.get("total"), field="total", allow_zero=True)
    except InvalidInput as exc:
        result.error(row.line, "total", exc.message)
    receipts = 0
    if row.get("receipts"):
        if is_plain_whole(row.get("receipts")):
            receipts = int(row.get("receipts"))
        else:
            result.error(row.line, "receipts", _("Enter a number of receipts."))
    if day is not None and total is not None:
        try:
            store_sales_check(day=day, total=total, receipts=receipts)
        except InvalidInput as exc:
            column = {"total_sales": "total"}.get(exc.field, exc.field)
            result.error(row.line, column, exc.message)
    if len(result.errors) > errors:
        return None
    return _Day(row.line, store, day, total, receipts)


def store_sales_import(
    rows: list[CsvRow],
    *,
    entered_by: User | None = None,
    dry_run: bool = False,
    progress: Progress | None = None,
) -> ImportResult:
    """Write the days of a store sales file, a chunk at a time in one
    transaction each (store_sales_write_many). `imported` counts the days
    written (new or corrected), `skipped` those already there as they are."""
    return import_run(
        lambda durable: _import(
            rows, entered_by=entered_by, progress=progress, durable=durable
        ),
        dry_run=dry_run,
    )


def _import(
    rows: list[CsvRow],
    *,
    entered_by: User | None,
    progress: Progress | None,
    durable: bool,
) -> ImportResult:
    result = ImportResult(total=len(rows))
    stores = stores_by_code()
    first_line: dict[tuple[int, dt.date], int] = {}
    done = 0
    for chunk in chunks(rows, CHUNK):
        days = []
        for row in chunk:
            clean = _row_clean(row, stores, result)
            if clean is None:
                continue
            key = (clean.store.pk, clean.day)
            if key in first_line:
                result.error(
                    clean.line,
                    "date",
                    _("Line %(line)s has this store and day already.")
                    % {"line": first_line[key]},
                )
                continue
            first_line[key] = clean.line
            days.append(clean)
        existing = {
            (row.store_id, row.day): row
            for row in StoreSales.objects.filter(
                store__in={d.store for d in days}, day__in={d.day for d in days}
            )
        }
        new, changed = [], []
        for d in days:
            row = existing.get((d.store.pk, d.day))
            if row is None:
                new.append(
                    StoreSales(
                        store=d.store, day=d.day, total=d.total, receipts=d.receipts
                    )
                )
            elif (row.total, row.receipts) == (d.total, d.receipts):
                result.skipped += 1
                continue
            else:
                result.notes.append(
                    RowError(
                        d.line,
                        "total",
                        _(
                            "This day was there with total %(total)s and "
                            "%(receipts)s receipts; the file's figures replace them."
                        )
                        % {
                            "total": number_format(row.total, places=2),
                            "receipts": number_format(row.receipts),
                        },
                    )
                )
                row.total, row.receipts = d.total, d.receipts
                changed.append(row)
            result.imported += 1
        if new or changed:
            store_sales_write_many(
                new=new, changed=changed, entered_by=entered_by, durable=durable
            )
        done += len(chunk)
        if progress is not None:
            progress(done, len(rows))
    result.errors.sort(key=lambda error: error.line)
    return result
