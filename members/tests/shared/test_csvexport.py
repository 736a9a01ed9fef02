"""The one CSV writer: text a spreadsheet would run as a formula gets a quote in
front; numbers, and text that is only a negative number, are left alone."""

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from django.utils.translation import gettext_lazy

from members.csvexport import csv_cell, csv_response, csv_text, csv_writer

HOSTILE = ['=HYPERLINK("http://x")', "+1", "-1+1", "@SUM(A1)", "\t=1", "\r=1", "\n=1"]


def _read(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


@pytest.mark.parametrize("value", HOSTILE)
def test_text_that_starts_a_formula_gets_a_quote(value):
    assert csv_cell(value) == "'" + value
    assert _read(csv_text([[value]])) == [["'" + value]]


@pytest.mark.parametrize(
    "value",
    [-5, Decimal("-12.50"), -0.5, 0, 7, None, dt.date(2026, 1, 2), True],
)
def test_numbers_and_other_non_text_are_written_as_they_are(value):
    assert csv_cell(value) is value


@pytest.mark.parametrize(
    "value", ["-50", "-2.00", "-12.5 %", "-12.5%", "-1,234.50", "-1\u00a0234,50"]
)
def test_text_that_is_only_a_negative_number_stays_a_number(value):
    assert csv_cell(value) == value


@pytest.mark.parametrize(
    "value", ["-", "-1 pp", "-1-1", "-2+3", "- 1", "-1)", "-A1", "-1e3", "-1,", "+50"]
)
def test_text_that_is_more_than_a_negative_number_gets_a_quote(value):
    assert csv_cell(value) == "'" + value


@pytest.mark.parametrize(
    "value", ["", "Olena", "a=b", " =1", "'=1", "R-000123", "100", "2026-10"]
)
def test_harmless_text_is_unchanged(value):
    assert csv_cell(value) == value


def test_lazy_translations_are_written_as_their_text():
    assert csv_cell(gettext_lazy("Members")) == "Members"
    assert csv_text([[gettext_lazy("Members")]]) == "Members\r\n"


def test_writer_neutralises_every_cell_of_every_row_and_quotes_as_csv_does():
    out = io.StringIO()
    writer = csv_writer(out, lineterminator="\n")
    writer.writerow(["name", "points"])
    writer.writerows([["=1+1", -5], ['a,"b"', Decimal("-1.50")]])
    assert out.getvalue() == 'name,points\n\'=1+1,-5\n"a,""b""",-1.50\n'


def test_response_is_a_utf8_attachment_with_a_byte_order_mark():
    response = csv_response("x y.csv", [["Ім'я"], ["@me"]])
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="x y.csv"'
    assert response.content.startswith("\ufeff".encode())
    assert _read(response.content.decode("utf-8-sig")) == [["Ім'я"], ["'@me"]]
