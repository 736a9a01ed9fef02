"""What the import_members and import_purchases commands share: reading the
file, printing progress and the summary, the exit code."""

from __future__ import annotations

import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from members.imports import CsvUnreadable, ImportResult

ERRORS_SHOWN = 200


class ImportCommand(BaseCommand):
    """Subclasses set `read` (bytes → rows) and `run` (rows, options → result)."""

    def add_arguments(self, parser):
        parser.add_argument("file", help="CSV file (UTF-8, comma or semicolon)")
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="check the rows and look the members up; write nothing",
        )

    def read(self, content: bytes):
        raise NotImplementedError

    def run(self, rows, options, progress) -> ImportResult:
        raise NotImplementedError

    def handle(self, *args, **options):
        path = Path(options["file"])
        try:
            content = path.read_bytes()
        except OSError as exc:
            raise CommandError(
                _("Cannot read %(file)s: %(error)s")
                % {"file": path, "error": exc.strerror}
            ) from None
        try:
            rows = self.read(content)
        except CsvUnreadable as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(
            _("%(rows)s rows in %(file)s.") % {"rows": len(rows), "file": path}
        )
        started = time.perf_counter()
        last = [0.0]

        def progress(done: int, total: int) -> None:
            now = time.perf_counter()
            if done < total and now - last[0] < 1:
                return
            last[0] = now
            rate = done / max(now - started, 1e-9)
            self.stdout.write(
                _("%(done)s/%(total)s rows, %(rate).0f rows/s")
                % {"done": done, "total": total, "rate": rate}
            )
            self.stdout.flush()

        result = self.run(rows, options, progress)
        seconds = time.perf_counter() - started
        self.summary(result, seconds)
        if result.errors:
            raise SystemExit(1)

    def summary(self, result: ImportResult, seconds: float) -> None:
        out = self.stdout
        if result.dry_run:
            out.write(_("Dry run: nothing was written."))
        out.write(
            _(
                "Rows: %(total)s in %(seconds).1f s (%(rate).0f rows/s). "
                "Imported: %(imported)s. Skipped as already there: %(skipped)s. "
                "Rows with errors: %(failed)s."
            )
            % {
                "total": result.total,
                "seconds": seconds,
                "rate": result.total / max(seconds, 1e-9),
                "imported": result.imported,
                "skipped": result.skipped,
                "failed": result.failed,
            }
        )
        for note in result.notes[:ERRORS_SHOWN]:
            out.write(
                _("Line %(line)s, %(column)s: %(message)s")
                % {"line": note.line, "column": note.column, "message": note.message}
            )
        for error in result.errors[:ERRORS_SHOWN]:
            self.stderr.write(
                _("Line %(line)s, %(column)s: %(message)s")
                % {"line": error.line, "column": error.column, "message": error.message}
            )
        if len(result.errors) > ERRORS_SHOWN:
            self.stderr.write(
                _("… and %(count)s more errors.")
                % {"count": len(result.errors) - ERRORS_SHOWN}
            )
