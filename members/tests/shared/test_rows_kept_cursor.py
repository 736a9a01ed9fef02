"""members.rows.prepared_cursor keeps its psycopg cursor for the connection's
next statement, and makes a new one when what it was made for is gone: the
connection (closed, or a new one) or Django's time zone of the connection
(its timestamptz loader is set when the cursor is made)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from members.rows import prepared_cursor, row_fetch

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

SQL = "SELECT %s::int + 1, TIMESTAMPTZ '2026-01-02 03:04:05+00'"


def _raw_cursor():
    with prepared_cursor() as cursor:
        return cursor.cursor


def test_the_next_statement_runs_on_the_same_cursor_which_stays_open():
    first = _raw_cursor()
    assert row_fetch(SQL, [1], prepared=True)[0] == 2
    assert row_fetch(SQL, [41], prepared=True)[0] == 42
    assert _raw_cursor() is first
    assert not first.closed


@pytest.mark.django_db(transaction=True)  # the connection is closed
def test_a_new_connection_gets_a_new_cursor_that_works():
    first = _raw_cursor()
    connection.close()
    assert row_fetch(SQL, [2], prepared=True)[0] == 3
    second = _raw_cursor()
    assert second is not first
    assert second.connection is connection.connection


def test_a_closed_cursor_is_made_again():
    first = _raw_cursor()
    first.close()
    assert row_fetch(SQL, [3], prepared=True)[0] == 4
    assert _raw_cursor() is not first


def test_times_come_in_the_connection_zone_after_it_changes(settings):
    """Without time zones, Django reads local times, naive; a cursor made for
    UTC would read 05:04:05+02 as 05:04:05 UTC."""
    assert row_fetch(SQL, [0], prepared=True)[1].utcoffset() == dt.timedelta(0)
    # Django sets the connection's zone again and forgets its cached zone.
    settings.USE_TZ, settings.TIME_ZONE = False, "Europe/Kyiv"
    assert row_fetch(SQL, [0], prepared=True)[1] == dt.datetime(2026, 1, 2, 5, 4, 5)


def test_logged_statements_are_still_logged_with_their_values():
    with CaptureQueriesContext(connection) as captured:
        row_fetch(SQL, [7], prepared=True)
        row_fetch(SQL, [8], prepared=True)
    assert [q["sql"] for q in captured.captured_queries] == [
        SQL.replace("%s", "7"),
        SQL.replace("%s", "8"),
    ]
