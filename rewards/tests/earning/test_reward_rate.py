"""The effective reward rate (rewards.selectors.reward_rate): points earned on
purchases × point value ÷ sales, both less returns, by month, store and tier,
against figures worked out by hand."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from members.tests.factories import MemberFactory
from rewards.models import RuleKind
from rewards.selectors.program import program_settings_get
from rewards.selectors.reward_rate import reward_rate_total, reward_rates
from rewards.services import points_bonus_grant, purchase_record, purchase_return_record
from rewards.tests.factories import EarningRuleFactory, TierFactory

pytestmark = pytest.mark.django_db

KYIV = dt.timezone(dt.timedelta(hours=2))
OCT = dt.datetime(2026, 10, 1, tzinfo=KYIV)
NOV = dt.datetime(2026, 11, 1, tzinfo=KYIV)
DEC = dt.datetime(2026, 12, 1, tzinfo=KYIV)


@pytest.fixture
def program(db):
    """0.2 points per UAH at 0.10 UAH a point: 2 % back before multipliers."""
    conf = program_settings_get()
    conf.points_per_unit = Decimal("0.2")
    conf.point_value = Decimal("0.10")
    conf.min_purchase = Decimal("0")
    conf.save()
    return conf


@pytest.fixture
def shopping(program, store, other_store):
    """October: a Bronze member buys 500 UAH at `store` (100 points) and a Gold
    member (×1.5) 1000 UAH at `other_store` (300 points) and returns half of
    it (150 points back). November: the Bronze member buys 250 UAH on a ×2
    promotion (100 points). A welcome bonus of 50 points belongs to no
    purchase."""
    bronze = TierFactory(
        name="Bronze", rank=1, threshold=Decimal("0"), earn_multiplier=Decimal("1")
    )
    gold = TierFactory(
        name="Gold", rank=3, threshold=Decimal("99999"), earn_multiplier=Decimal("1.5")
    )
    a, b = MemberFactory(store=store), MemberFactory(store=other_store)
    for member, tier in ((a, bronze), (b, gold)):
        member.account.tier = tier
        member.account.save()
    purchase_record(
        store=store,
        member=a,
        receipt_id="A1",
        total=Decimal("500"),
        occurred_at=OCT + dt.timedelta(days=3, hours=12),
    )
    big, _ = purchase_record(
        store=other_store,
        member=b,
        receipt_id="B1",
        total=Decimal("1000"),
        occurred_at=OCT + dt.timedelta(days=30, hours=12),
    )
    purchase_return_record(
        purchase=big, store=other_store, receipt_id="BR1", amount=Decimal("500")
    )
    EarningRuleFactory(kind=RuleKind.PROMOTION, category="", multiplier=Decimal(2))
    purchase_record(
        store=store,
        member=a,
        receipt_id="A2",
        total=Decimal("250"),
        occurred_at=NOV + dt.timedelta(minutes=30),  # October 31st in UTC
    )
    points_bonus_grant(member=a, points=50, reason="Welcome", idempotency_key="w:a")
    return bronze, gold


def _by(rows):
    return {r.label: (r.purchases, r.sales, r.points, r.value, r.rate) for r in rows}


def test_rate_over_the_period_is_points_worth_over_sales_less_returns(shopping):
    (total,) = reward_rates(start=OCT, end=DEC)
    # 1250 UAH kept, 100 + 150 + 100 = 350 points = 35 UAH: 2.8 %
    assert (total.purchases, total.sales, total.points) == (3, Decimal("1250"), 350)
    assert total.value == Decimal("35.00")
    assert total.rate == Decimal("2.80")


def test_rate_by_month_in_the_program_s_time_zone(shopping, settings):
    settings.TIME_ZONE = "Europe/Kyiv"
    rows = reward_rates(start=OCT, end=DEC, by="month")
    assert [r.key for r in rows] == [dt.date(2026, 10, 1), dt.date(2026, 11, 1)]
    assert _by(rows) == {
        "2026-10": (2, Decimal("1000"), 250, Decimal("25.00"), Decimal("2.50")),
        "2026-11": (1, Decimal("250"), 100, Decimal("10.00"), Decimal("4.00")),
    }
    assert reward_rate_total(rows) == reward_rates(start=OCT, end=DEC)[0]


def test_rate_by_store_and_by_tier(shopping, store, other_store):
    by_store = reward_rates(start=OCT, end=DEC, by="store")
    assert [r.key for r in by_store] == [store.pk, other_store.pk]  # by name
    assert _by(by_store) == {
        store.name: (2, Decimal("750"), 200, Decimal("20.00"), Decimal("2.67")),
        other_store.name: (1, Decimal("500"), 150, Decimal("15.00"), Decimal("3.00")),
    }
    assert _by(reward_rates(start=OCT, end=DEC, by="tier")) == {
        "Bronze": (2, Decimal("750"), 200, Decimal("20.00"), Decimal("2.67")),
        "Gold": (1, Decimal("500"), 150, Decimal("15.00"), Decimal("3.00")),
    }


def test_one_store_and_a_period_without_purchases(shopping, store):
    (one,) = reward_rates(start=OCT, end=DEC, store_id=store.pk)
    assert (one.sales, one.points, one.rate) == (Decimal("750"), 200, Decimal("2.67"))
    (none,) = reward_rates(start=DEC, end=DEC + dt.timedelta(days=31))
    assert (none.purchases, none.sales, none.points, none.rate) == (
        0,
        Decimal("0"),
        0,
        None,
    )
    assert reward_rates(start=DEC, end=DEC + dt.timedelta(days=31), by="tier") == []


def test_purchases_without_a_recorded_tier_come_last(shopping):
    from rewards.models import Purchase

    Purchase.objects.filter(receipt_id="A2").update(tier=None)
    rows = reward_rates(start=OCT, end=DEC, by="tier")
    assert [r.label for r in rows] == ["Bronze", "Gold", "No tier"]


def test_unknown_grouping_is_refused():
    with pytest.raises(ValueError, match="by must be one of"):
        reward_rates(start=OCT, end=DEC, by="weekday")
