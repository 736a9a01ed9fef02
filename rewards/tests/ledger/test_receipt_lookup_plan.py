"""Every till write's first statement looks its receipt up by the receipt key,
the unique (store, receipt_id), in a statement psycopg prepares after five
runs on a connection (members.rows.prepared_cursor). PostgreSQL then keeps
one generic plan for the connection's life, made without the values.

With a second index on `store` alone, the generic plan made while the table
was new (no statistics yet) took that index and filtered every purchase of
the store by receipt id: the statement's time grew with the store's purchases
(0.4 ms at 1,500 purchases, 1.3 ms at 6,000, in the server's own log; bench
4's raw writes and benchmark 1 both paid it). The unique index serves every
look-up by store, so the receipt tables have no other (no table has an index
that begins another: tests/house/test_indexes.py); these tests walk the
generic plans of the statements of every model whose receipt key that is.
The same statement reads the member's pending referral: by its referee, which
is unique, and not by the index on its status (the same kind of plan filtered
every pending referral). The tier values a purchase reads, also prepared, are
bounded by their index on (member, time), not filtered over the member's whole
history as the index on member alone had them."""

from __future__ import annotations

import re

import pytest
from django.apps import apps
from django.db import connection, models, transaction
from django.utils import timezone

from rewards.locks import account_lock_sql, account_lock_with_receipt_sql
from rewards.models import (
    LedgerEntry,
    Purchase,
    PurchaseReturn,
    Redemption,
    Referral,
    ReferralStatus,
    SubscriptionStatus,
    TierQualification,
)
from rewards.selectors.tiers import tier_value_subqueries
from rewards.tests.factories import TierFactory

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


def _generic_plan(sql: str, values: list) -> str:
    """EXPLAIN of `sql` (with %s placeholders) prepared and run with its
    generic plan, made on the test's tables as they are (new, no statistics,
    unless the suite's other tests left some), with index scans only."""
    numbered, n = sql, 0
    while "%s" in numbered:
        n += 1
        numbered = numbered.replace("%s", f"${n}", 1)
    args = ", ".join(["%s"] * len(values))
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL plan_cache_mode = force_generic_plan")
        # Which index serves the look-up, whatever statistics other tests left
        # (a small table read whole, or through a bitmap, says nothing of it).
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_bitmapscan = off")
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
    active, pending = SubscriptionStatus.ACTIVE, ReferralStatus.PENDING
    purchase = [store.pk, "R1", active, at, at, active, at, at, pending]
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


@pytest.mark.parametrize("qualification", TierQualification.values)
def test_the_generic_plans_bound_a_tier_value_by_its_index(member, qualification):
    """A tier value (rewards.selectors.tiers, prepared) sums the member's
    purchases or points earned since a start: the start bounds the index
    scan, not a filter over all of the member's history."""
    tier = TierFactory.build(qualification=qualification)
    ((sql, values),) = tier_value_subqueries(
        member_id=member.pk, tiers=[tier], at=timezone.now()
    ).values()
    plan = _generic_plan(sql, values)
    model, since = (
        (LedgerEntry, "created_at")
        if qualification == TierQualification.POINTS_EARNED
        else (Purchase, "occurred_at")
    )
    assert len(_indexes_used(plan, model._meta.db_table)) == 1, plan
    assert re.search(rf"Index Cond: .*\b{since} >= ", plan), plan
