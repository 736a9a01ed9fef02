"""Concurrent purchases of one member crossing tier thresholds: each upgrade
happens once, in order, and every purchase earns at the tier it was recorded in.
PostgreSQL only (SQLite serializes all writers)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from members.tests.factories import MemberFactory
from rewards.models import PointsAccount, Purchase, TierHistory
from rewards.services import purchase_record
from rewards.tests.factories import TierFactory
from rewards.tests.ledger.test_races import assert_ledger_exact, run_together

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_concurrent_purchases_upgrade_once_each_step(store):
    member = MemberFactory(store=store)
    bronze = TierFactory(name="Bronze", rank=1)
    silver = TierFactory(
        name="Silver", rank=2, threshold=Decimal("1000"), earn_multiplier=Decimal("2")
    )
    gold = TierFactory(
        name="Gold", rank=3, threshold=Decimal("2000"), earn_multiplier=Decimal("3")
    )

    results = run_together(
        10,
        lambda i: purchase_record(
            store=store, member=member, receipt_id=f"t{i}", total="250.00"
        ),
    )

    assert not [r for r in results if isinstance(r, Exception)]
    assert PointsAccount.objects.get(member=member).tier == gold
    moves = list(
        TierHistory.objects.filter(member=member)
        .order_by("created_at", "id")
        .values_list("to_tier", flat=True)
    )
    assert moves == [bronze.pk, silver.pk, gold.pk]
    # In lock order: 4 at the base rate (to 1 000), 4 at × 2 (to 2 000), 2 at × 3.
    rates = list(
        Purchase.objects.filter(member=member)
        .order_by("balance_after")
        .values_list("points_per_unit", flat=True)
    )
    assert rates == [Decimal("1")] * 4 + [Decimal("2")] * 4 + [Decimal("3")] * 2
    assert assert_ledger_exact(member) == 4 * 250 + 4 * 500 + 2 * 750
