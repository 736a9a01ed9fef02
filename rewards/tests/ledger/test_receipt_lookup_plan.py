"""Every till write's first statement looks its receipt up by the receipt key,
the unique (store, receipt_id), in a statement psycopg prepares after five
runs on a connection (members.rows.prepared_cursor). PostgreSQL then keeps
one generic plan for the connection's life, made without the values.

With a second index on `store` alone, the generic plan made while the table
was new (no statistics yet) took that index and filtered every purchase of
the store by receipt id: the statement's time grew with the store's purchases
(0.4 ms at 1,500 purchases, 1.3 ms at 6,000, in the server's own log; bench
4's raw writes and benchmark 1 both paid it). The unique index serves every
look-up by store, so the receipt tables have no other: these tests walk every
model whose receipt key that is, and the generic plans of the statements.
The same statement reads the member's pending referral: by its referee, which
is unique, and not by the index on its status (the same kind of plan filtered
every pending referral)."""

from __future__ import annotations

import re

import pytest
from django.apps import apps
from django.db import connection, models, transaction

from rewards.locks import account_lock_sql, account_lock_with_receipt_sql
from rewards.models import Purchase, PurchaseReturn, Redemption, Referral

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


def _receipt_keys() -> list[tuple[type[models.Model], models.UniqueConstraint]]:
    """The models with a receipt key: a unique (store, receipt_id) on every row."""
    return [
        (model, constraint)
        for model in apps.get_models()
        for constraint in model._meta.constraints
        if isinstance(constraint, models.UniqueConstraint)
        and tuple(constraint.fields) == ("store", "receipt_id")
        and constraint.condition is None
    ]


def test_the_receipt_tables_are_found():
    assert {model for model, _c in _receipt_keys()} >= {
        Purchase,
        PurchaseReturn,
        Redemption,
    }


@pytest.mark.parametrize(
    ("model", "key"), _receipt_keys(), ids=lambda v: getattr(v, "__name__", "")
)
def test_no_other_index_starts_with_the_receipt_keys_columns(model, key):
    meta = model._meta
    columns = [meta.get_field(name).column for name in key.fields]
    with connection.cursor() as cursor:
        found = connection.introspection.get_constraints(cursor, meta.db_table)
    prefixes = [
        name
        for name, c in found.items()
        if c["index"]
        and name != key.name
        and c["columns"]
        and c["columns"] == columns[: len(c["columns"])]
    ]
    assert prefixes == [], (
        f"{meta.db_table}: {prefixes} begin with {columns}, which the receipt key "
        f"{key.name} serves; a generic plan may take them for a receipt look-up"
    )


def _generic_plan(sql: str, values: list) -> str:
    """EXPLAIN of `sql` (with %s placeholders) prepared and run with its
    generic plan, made on the test's tables as they are: new, no statistics."""
    numbered, n = sql, 0
    while "%s" in numbered:
        n += 1
        numbered = numbered.replace("%s", f"${n}", 1)
    args = ", ".join(["%s"] * len(values))
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL plan_cache_mode = force_generic_plan")
        cursor.execute(f"PREPARE receipt_plan AS {numbered}")
        try:
            cursor.execute(f"EXPLAIN EXECUTE receipt_plan({args})", values)
            return "\n".join(row[0] for row in cursor.fetchall())
        finally:
            cursor.execute("DEALLOCATE receipt_plan")


def _lookups(store, member) -> list[tuple[type[models.Model], str, list]]:
    """The prepared statements that look a receipt up: a purchase's read
    (unlocked, and locked), a redemption's and a return's lock."""
    at = "2026-12-07 10:00:00+00"
    purchase = [store.pk, "R1", "active", at, at, "active", at, at, "pending"]
    return [
        (Purchase, account_lock_sql("postgresql", False), [*purchase, member.pk]),
        (Purchase, account_lock_sql("postgresql", True), [*purchase, member.pk]),
        *(
            (
                model,
                account_lock_with_receipt_sql("postgresql", model),
                [store.pk, "R1", member.pk],
            )
            for model in (Redemption, PurchaseReturn)
        ),
    ]


def _indexes_used(plan: str, table: str) -> list[str]:
    assert f"Seq Scan on {table}" not in plan, plan
    return re.findall(rf"Index (?:Only )?Scan using (\w+) on {table}\b", plan)


def test_the_generic_plans_look_the_receipt_up_by_its_key(store, member):
    keys = {model: key.name for model, key in _receipt_keys()}
    referrals = Referral._meta.db_table
    with connection.cursor() as cursor:
        found = connection.introspection.get_constraints(cursor, referrals)
    (referee_key,) = (
        name
        for name, c in found.items()
        if c["unique"] and c["columns"] == [Referral._meta.get_field("referee").column]
    )
    for model, sql, values in _lookups(store, member):
        plan = _generic_plan(sql, values)
        assert _indexes_used(plan, model._meta.db_table) == [keys[model]], plan
        if model is Purchase:
            # The member's pending referral, in the same statement: by its
            # referee (unique), not by an index on its status.
            assert _indexes_used(plan, referrals) == [referee_key], plan
