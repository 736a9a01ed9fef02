"""The one way this project writes CSV: every export and template goes through
`csv_writer` (or `csv_response` / `csv_text`, built on it).

A spreadsheet opening a CSV runs a cell that starts with ``=``, ``+``, ``-`` or
``@`` as a formula (and one that starts with a tab, carriage return or line
feed, after it strips them), so a member who calls themselves
``=HYPERLINK("http://x", "Click")`` gets a live link, or worse, into the
settlement a partner opens. As OWASP advises ("CSV Injection"), such a text cell
is written with a single quote in front, which makes it text.

What is neutralised is text: an ``int``, ``Decimal`` or ``float`` is written as
it is, so a -5 points figure stays a number. So does text that is nothing but a
negative number (``-50``, ``-2.00``, ``-12.5 %``, ``-1 234,50`` with a no-break
space): pages format figures as text before they export them, and a spreadsheet
reads such a cell as a number, never as a formula (the rule defusedcsv keeps).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from typing import Any

from django.http import HttpResponse
from django.utils.functional import Promise
from django.utils.http import content_disposition_header

# Leading characters that make a spreadsheet read a cell as a formula.
FORMULA_STARTS = frozenset("=+-@\t\r\n")
# A spreadsheet reads a byte-order mark as "this file is UTF-8"; without it
# Excel shows Ukrainian names as mojibake. Every reader here accepts it.
BOM = "\ufeff"
_NEGATIVE_NUMBER = re.compile(r"-\d+(?:[.,\u00a0\u202f]\d+)*(?: ?%)?")


def csv_cell(value: Any) -> Any:
    """The value as it may be written to a CSV cell: text that a spreadsheet
    would run as a formula gets a ``'`` in front; anything else is unchanged."""
    if isinstance(value, Promise):  # a lazily translated header
        value = str(value)
    if (
        isinstance(value, str)
        and value[:1] in FORMULA_STARTS
        and not _NEGATIVE_NUMBER.fullmatch(value)
    ):
        return "'" + value
    return value


class CsvWriter:
    """`csv.writer` that passes every cell through `csv_cell`."""

    def __init__(self, stream, **fmtparams) -> None:
        self._writer = csv.writer(stream, **fmtparams)

    def writerow(self, row: Iterable[Any]) -> Any:
        return self._writer.writerow([csv_cell(value) for value in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


def csv_writer(stream, **fmtparams) -> CsvWriter:
    """A writer onto `stream` (a file, `StringIO` or `HttpResponse`) whose cells
    cannot become formulas. Takes the same format parameters as `csv.writer`."""
    return CsvWriter(stream, **fmtparams)


def csv_text(rows: Iterable[Iterable[Any]], **fmtparams) -> str:
    """The rows as CSV text (no byte-order mark)."""
    out = io.StringIO()
    csv_writer(out, **fmtparams).writerows(rows)
    return out.getvalue()


def csv_response(filename: str, rows: Iterable[Iterable[Any]]) -> HttpResponse:
    """A download of the rows (the header first) as `filename`, UTF-8 with a
    byte-order mark so spreadsheet programs read it as UTF-8."""
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = content_disposition_header(True, filename)
    response.write(BOM)
    csv_writer(response).writerows(rows)
    return response
