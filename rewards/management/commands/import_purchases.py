"""Record purchase history from a CSV file through purchase_record (rewards.imports)."""

from __future__ import annotations

from members.management.importing import ImportCommand
from rewards.imports import PURCHASE_COLUMNS, purchases_csv_read, purchases_import


class Command(ImportCommand):
    help = (
        "Record purchases from a CSV file, one row per receipt line (columns: "
        + ", ".join(PURCHASE_COLUMNS)
        + "), in time order. A receipt already recorded is skipped. "
        "Exit code 1 if a row failed."
    )

    def read(self, content: bytes):
        return purchases_csv_read(content)

    def run(self, rows, options, progress):
        return purchases_import(rows, dry_run=options["dry_run"], progress=progress)
