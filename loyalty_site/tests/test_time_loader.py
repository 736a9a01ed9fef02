"""loyalty_site.time_loader: on a connection in UTC every cursor reads
timestamptz with psycopg's loader in C, and gets exactly what Django's own
loader gives, errors included; outside UTC, Django's loader as before."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.db.backends.postgresql.psycopg_any import register_tzloader

from loyalty_site.time_loader import UtcTimestamptzLoader, utc_loader_install
from members.rows import prepared_cursor, row_fetch

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

TIMESTAMPTZ = 1184
VALUES = [
    "2026-01-02 03:04:05+00",
    "2026-03-29 03:00:00.000001+03",
    "1900-01-01 00:00:00+01:30:17",
    "1999-12-31 23:59:59.999999-11:30",
    "0001-01-01 00:30:00+02",  # before year 1 in UTC: refused
    "9999-12-31 23:30:00-02",  # after 9999 in UTC: refused
    "infinity",
    "-infinity",
    None,
]
SQL = "SELECT %s::timestamptz"


def _read(sql, params, *, django: bool):
    """The value, or the error's class and text."""
    with connection.cursor() as cursor:
        if django:
            register_tzloader(connection.timezone, cursor.cursor)
        try:
            cursor.execute(sql, params)
            return cursor.fetchone()[0]
        except Exception as exc:  # noqa: BLE001 - compared between the two
            return type(exc), str(exc)


def _loader(cursor):
    return cursor.cursor.adapters.get_loader(TIMESTAMPTZ, 0)


def test_cursors_in_utc_read_in_c():
    with connection.cursor() as plain:
        assert _loader(plain) is UtcTimestamptzLoader
    with prepared_cursor() as kept:
        assert _loader(kept) is UtcTimestamptzLoader
    assert row_fetch(SQL, [VALUES[0]], prepared=True)[0].tzinfo is dt.UTC


@pytest.mark.parametrize("value", VALUES)
def test_every_value_reads_as_djangos_loader_reads_it(value):
    ours = _read(SQL, [value], django=False)
    assert ours == _read(SQL, [value], django=True)
    if isinstance(ours, dt.datetime):
        assert ours.tzinfo is dt.UTC


def test_a_django_zone_other_than_utc_gets_djangos_loader(settings):
    settings.USE_TZ, settings.TIME_ZONE = False, "Europe/Kyiv"
    with connection.cursor() as plain:
        assert _loader(plain) is not UtcTimestamptzLoader
    assert _read(SQL, [VALUES[0]], django=False) == dt.datetime(2026, 1, 2, 5, 4, 5)


@pytest.mark.django_db(transaction=True)  # the connection is closed
def test_only_a_connection_whose_session_is_in_utc_gets_it():
    connection.ensure_connection()
    assert utc_loader_install(connection=connection)
    with connection.cursor() as cursor:
        cursor.execute("SET TIME ZONE 'Europe/Kyiv'")
    try:
        assert not utc_loader_install(connection=connection)
    finally:
        connection.close()  # a new connection sets its zone again
    connection.ensure_connection()
    with connection.cursor() as plain:
        assert _loader(plain) is UtcTimestamptzLoader
