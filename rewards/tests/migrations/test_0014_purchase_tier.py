"""rewards 0014 gives every purchase recorded before it the tier its member had
just before it was recorded (from the tier history; the move a purchase caused
comes after it), and none when the member had no tier yet."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from rewards.models import Purchase

BEFORE = [("rewards", "0013_points_from_members")]
AFTER = [("rewards", "0014_purchase_tier_and_earn_cap")]
T0 = dt.datetime(2026, 3, 1, 10, tzinfo=dt.UTC)


@pytest.fixture
def before_0014():
    """The database at rewards 0013; back at the latest migrations afterwards."""
    from conftest import _staff_groups_ensure

    _staff_groups_ensure()
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    yield executor.loader.project_state(BEFORE).apps
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


@pytest.mark.django_db(transaction=True)
def test_older_purchases_get_the_tier_their_member_had(before_0014):
    old = before_0014
    Member = old.get_model("members", "Member")
    Store = old.get_model("members", "Store")
    Tier = old.get_model("rewards", "Tier")
    TierHistory = old.get_model("rewards", "TierHistory")
    OldPurchase = old.get_model("rewards", "Purchase")
    store = Store.objects.create(code="mig", name="Migration shop")
    climber = Member.objects.create(
        card_number="27000000011", phone="+380670000011", referral_code="MIGA"
    )
    newcomer = Member.objects.create(
        card_number="27000000012", phone="+380670000012", referral_code="MIGB"
    )
    bronze = Tier.objects.create(name="Bronze", rank=1, threshold=Decimal("0"))
    gold = Tier.objects.create(name="Gold", rank=3, threshold=Decimal("1000"))
    hour = dt.timedelta(hours=1)

    def buy(member, receipt: str, at: dt.datetime) -> int:
        return OldPurchase.objects.create(
            store=store,
            member=member,
            receipt_id=receipt,
            total=Decimal("100"),
            occurred_at=at,
            created_at=at,
            points_per_unit=Decimal("1"),
            min_purchase=Decimal("0"),
            balance_after=0,
            source="import",
        ).pk

    first = buy(climber, "P1", T0)  # before any tier: it gave Bronze
    TierHistory.objects.create(
        member=climber, to_tier=bronze, kind="initial", reason="", value=0, created_at=T0
    )
    bronze_buy = buy(climber, "P2", T0 + hour)
    up = buy(climber, "P3", T0 + 2 * hour)  # the purchase that moved them up
    TierHistory.objects.create(
        member=climber,
        from_tier=bronze,
        to_tier=gold,
        kind="up",
        reason="",
        value=1000,
        created_at=T0 + 2 * hour,
    )
    gold_buy = buy(climber, "P4", T0 + 3 * hour)
    nobody = buy(newcomer, "P5", T0 + 3 * hour)

    MigrationExecutor(connection).migrate(AFTER)

    tiers = dict(Purchase.objects.values_list("pk", "tier__name"))
    assert tiers == {
        first: None,
        bronze_buy: "Bronze",
        up: "Bronze",
        gold_buy: "Gold",
        nobody: None,
    }
