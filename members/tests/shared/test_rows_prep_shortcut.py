"""members.rows.insert_params takes some values without the field's methods
(prep_shortcut): for every field of every model, and values of every type the
shortcut knows (and a few it must refuse), it sends what Django's pre_save and
get_db_prep_save send, or refuses as they refuse. On both databases: the
shortcuts differ by vendor."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from decimal import Decimal

import pytest
from django.apps import apps
from django.db import connection, models

from members.models.audit import AuditAction
from members.rows import insert_params, prep_shortcut

pytestmark = [
    pytest.mark.django_db,
    # The naive time goes to DateTimeField, which warns of it (both sides).
    pytest.mark.filterwarnings("ignore:DateTimeField .* received a naive"),
]

KYIV = zoneinfo.ZoneInfo("Europe/Kyiv")
# Values of each type a shortcut may know, and of types it must leave to the
# field: NaN, a naive time and a datetime for a date make Django warn,
# convert or refuse.
SAMPLES = {
    int: [0, 7, -3, 2**40],
    str: ["", "x", "Ключ 7", AuditAction.MEMBER_CHANGED],
    bool: [True, False],
    Decimal: [
        Decimal("0"),
        Decimal("123.45"),
        Decimal("1E+2"),
        Decimal("-0.0010"),
        Decimal("NaN"),
        Decimal("Infinity"),
    ],
    dt.datetime: [
        dt.datetime(2026, 3, 29, 1, 30, tzinfo=dt.UTC),
        dt.datetime(2026, 3, 29, 4, 30, 5, 17, tzinfo=KYIV),
    ],
    dt.date: [dt.date(2026, 2, 28)],
    dict: [{}, {"a": [1, "б"], "n": None}],
    list: [[], [{"stage": "base", "points": 5}]],
    type(None): [None],
}
# Never in a shortcut's table, yet a field may be given them.
OTHERS = [dt.datetime(2026, 3, 29, 1, 30), 1.5, "7", b"x"]


def _fields():
    for model in apps.get_models():
        for field in model._meta.concrete_fields:
            yield model, field


def _django(obj, field):
    """What the ORM's compiler sends for `field` of a new `obj`, or the
    exception's class."""
    try:
        return field.get_db_prep_save(field.pre_save(obj, True), connection)
    except Exception as exc:  # noqa: BLE001 - compared with insert_params'
        return type(exc)


def _ours(obj, field):
    try:
        return insert_params(obj, [field], related=False)[0]
    except Exception as exc:  # noqa: BLE001 - compared with Django's
        return type(exc)


def _same(a, b) -> bool:
    if type(a) is not type(b):
        return False
    if hasattr(a, "obj") and hasattr(a, "dumps"):  # psycopg's Jsonb
        return (a.obj, a.dumps) == (b.obj, b.dumps)
    return a == b


def test_every_field_sends_what_django_sends_for_every_value():
    checked = {}  # value type -> fields that took it through a shortcut
    differ = []
    for model, field in _fields():
        shortcut = prep_shortcut(field, connection.vendor)
        table = shortcut[1] if shortcut else {}
        kinds = {*table, *SAMPLES} if shortcut else set()
        values = [v for kind in kinds for v in SAMPLES.get(kind, [])] + OTHERS
        for value in values if shortcut else []:
            obj = model()
            setattr(obj, field.attname, value)
            ours, django = _ours(obj, field), _django(obj, field)
            if not _same(ours, django):
                differ.append((model.__name__, field.name, value, ours, django))
            if type(value) in table:
                checked.setdefault(type(value), set()).add(field)
    assert differ == []
    # Not vacuous: each kind of shortcut was taken by fields of this project.
    expected = {int, str, bool, Decimal, dict, list, type(None)}
    if connection.vendor == "postgresql":
        expected |= {dt.datetime, dt.date}
    assert expected <= set(checked)
    assert all(len(fields) >= 2 for fields in checked.values())


def test_fields_whose_pre_save_does_more_have_no_shortcut():
    """An automatic time (auto_now, auto_now_add), a subclass of a field
    class, a field class the table does not know: the field's own methods."""
    automatic = [
        f
        for _model, f in _fields()
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
    ]
    assert automatic  # the project has some
    assert all(prep_shortcut(f, connection.vendor) is None for f in automatic)

    class Stamp(models.DateTimeField):
        def pre_save(self, model_instance, add):
            return dt.datetime.now(dt.UTC)

    def named(field):
        field.set_attributes_from_name("f")
        return field

    assert prep_shortcut(named(Stamp()), "postgresql") is None
    assert prep_shortcut(named(models.DurationField()), "postgresql") is None
    # SQLite stores times as text: Django's adapter makes it.
    assert prep_shortcut(named(models.DateTimeField()), "sqlite") is None
    assert prep_shortcut(named(models.BooleanField()), "sqlite")[1] == {bool: None}
    nullable = prep_shortcut(named(models.BooleanField(null=True)), "sqlite")
    assert type(None) in nullable[1]
