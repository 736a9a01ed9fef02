"""No table of the project's apps has an index whose columns begin another
index of the same table.

Such an index serves no look-up the longer one does not (a B-tree serves any
leading part of its columns), yet every insert and update of the table writes
it, and a plan made without statistics (a prepared statement's generic plan)
can take it and filter what the longer one would have bounded: the receipt
look-up of every till write once did (rewards/tests/ledger/
test_receipt_lookup_plan.py). Django gives every foreign key an index of its
own, so a key that begins a unique constraint or a Meta index has two; the
key says `db_index=False` and the longer index serves it.

Read from the database the migrations built (PostgreSQL or SQLite), so an
index added by hand in a migration counts too. Partial indexes are left out:
they serve only the rows of their condition. Walks every model of the four
apps, so a model added later is covered.
"""

from __future__ import annotations

import pytest
from django.apps import apps
from django.db import connection

APPS = ("members", "rewards", "campaigns", "analytics")

pytestmark = pytest.mark.django_db


def _models():
    return sorted(
        (
            model
            for label in APPS
            for model in apps.get_app_config(label).get_models()
            if model._meta.managed and not model._meta.proxy
        ),
        key=lambda m: m._meta.label,
    )


def _partial_indexes(cursor, table: str) -> set[str]:
    if connection.vendor == "postgresql":
        cursor.execute(
            "SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid"
            " WHERE i.indrelid = %s::regclass AND i.indpred IS NOT NULL",
            [table],
        )
        return {row[0] for row in cursor.fetchall()}
    cursor.execute(
        "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = %s"
        " AND sql LIKE %s",
        [table, "% WHERE %"],
    )
    return {row[0] for row in cursor.fetchall()}


def _prefixes(table: str) -> list[tuple[str, list[str], str, list[str]]]:
    """(short index, its columns, long index, its columns) for every index
    of `table` whose columns begin another's."""
    with connection.cursor() as cursor:
        found = connection.introspection.get_constraints(cursor, table)
        partial = _partial_indexes(cursor, table)
    full = {
        name: c["columns"]
        for name, c in found.items()
        if (c["index"] or c["unique"])
        and c["columns"]
        and None not in c["columns"]  # an expression's column is unknown
        and name not in partial
    }
    return [
        (short, a, long, b)
        for short, a in full.items()
        for long, b in full.items()
        if short != long and len(a) < len(b) and b[: len(a)] == a
    ]


def test_every_model_of_the_apps_is_walked():
    tables = {model._meta.db_table for model in _models()}
    # One of each app, and the tables a purchase writes.
    assert {
        "members_member",
        "rewards_purchase",
        "rewards_ledgerentry",
        "rewards_pointslot",
        "campaigns_message",
        "analytics_membermonthactivity",
    } <= tables


def test_no_index_begins_another_index_of_its_table():
    found = {
        model._meta.label: prefixes
        for model in _models()
        if (prefixes := _prefixes(model._meta.db_table))
    }
    assert found == {}, (
        "each first index begins the second, which serves its look-ups: "
        "give the field db_index=False (or drop the shorter index)"
    )


def test_an_index_that_begins_another_is_found():
    """The walk finds one: an index made here on the first column of a table's
    unique (store, receipt_id)."""
    table = "rewards_purchase"
    with connection.cursor() as cursor:
        cursor.execute(f'CREATE INDEX "test_prefix_store" ON "{table}" ("store_id")')
    assert [(short, long_cols) for short, _a, _l, long_cols in _prefixes(table)] == [
        ("test_prefix_store", ["store_id", "receipt_id"])
    ]
