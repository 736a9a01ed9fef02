"""Daily store sales from a CSV file (analytics.imports)."""

from __future__ import annotations

from analytics.imports import (
    STORE_SALES_COLUMNS,
    store_sales_csv_read,
    store_sales_import,
)
from members.management.importing import ImportCommand


class Command(ImportCommand):
    help = (
        "Import daily store sales from a CSV file (columns: "
        + ", ".join(STORE_SALES_COLUMNS)
        + "; receipts optional). A day already there with the same figures is "
        "skipped, with other figures replaced (a note says so). Exit code 1 if a "
        "row failed."
    )

    def read(self, content: bytes):
        return store_sales_csv_read(content)

    def run(self, rows, options, progress):
        return store_sales_import(rows, dry_run=options["dry_run"], progress=progress)
