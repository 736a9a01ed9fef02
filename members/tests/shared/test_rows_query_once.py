"""members.rows.QueryOnce: a queryset compiled once, run again with other values,
gives the instances the queryset itself gives."""

from __future__ import annotations

import datetime as dt
from unittest import mock

import pytest
from django.db.models.sql.compiler import SQLCompiler
from django.utils import timezone

from members.models import Partner
from members.rows import QueryOnce

pytestmark = pytest.mark.django_db


def _partners(shape, *, since, name):
    start, stop = shape
    return (
        Partner.objects.filter(created_at__gte=since, is_active=True)
        .exclude(name=name)
        .order_by("created_at", "id")[start:stop]
    )


def _query():
    return QueryOnce(
        Partner,
        _partners,
        since=dt.datetime(2000, 1, 1, 0, 0, 1, 234_567, tzinfo=dt.UTC),
        name="\u2063stand-in\u2063",
    )


@pytest.fixture
def partners():
    now = timezone.now()
    made = []
    for k in range(6):
        made.append(
            Partner.objects.create(
                name=f"P{k}",
                is_active=k != 3,
                created_at=now - dt.timedelta(days=10 - k),
            )
        )
    return made, now


def _fields(objs):
    return [
        (p.pk, p.name, p.is_active, p.created_at, p.point_value, p.description)
        for p in objs
    ]


@pytest.mark.parametrize("shape", [(0, 2), (2, 10), (0, 100)])
@pytest.mark.parametrize("days_back", [0, 7, 20])
def test_gives_what_the_queryset_gives(partners, shape, days_back):
    _made, now = partners
    query = _query()
    for name in ("P1", "P4", "nobody"):
        since = now - dt.timedelta(days=days_back)
        expected = list(_partners(shape, since=since, name=name))
        got = query.rows(shape, since=since, name=name)
        assert _fields(got) == _fields(expected)
        assert all(p._state.adding is False for p in got)


def test_compiles_once_per_shape(partners):
    _made, now = partners
    query = _query()
    with mock.patch.object(
        SQLCompiler, "as_sql", autospec=True, side_effect=SQLCompiler.as_sql
    ) as compiled:
        first = query.rows((0, 3), since=now - dt.timedelta(days=30), name="P0")
        again = query.rows((0, 3), since=now - dt.timedelta(days=8), name="P5")
        assert compiled.call_count == 1
        query.rows((3, 6), since=now, name="P0")  # another slice: another statement
        assert compiled.call_count == 2
    assert [p.name for p in first] == ["P1", "P2", "P4"]
    assert [p.name for p in again] == ["P2", "P4"]


def test_refuses_a_queryset_that_reads_some_fields_only():
    query = QueryOnce(
        Partner,
        lambda shape, *, name: Partner.objects.only("name").filter(name=name),
        name="x",
    )
    with pytest.raises(ValueError, match="concrete fields"):
        query.rows(None, name="P1")
