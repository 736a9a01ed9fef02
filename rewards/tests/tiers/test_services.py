"""Tiers: upgrade at once on a purchase, the tier's multiplier on earning, nightly
downgrade one step at a time after the grace days, rewards kept for some tiers."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db.models import Sum
from django.utils import timezone, translation

from members.errors import Conflict
from rewards.models import (
    LedgerEntry,
    PointsAccount,
    TierHistory,
    TierQualification,
    TierWindow,
)
from rewards.selectors.ledger import member_balance_get
from rewards.selectors.tiers import tier_progress_get
from rewards.services import (
    points_adjust,
    purchase_record,
    purchase_return_record,
    reward_redeem,
    tier_evaluate,
    tiers_downgrade_due,
)
from rewards.tests.factories import RewardFactory, TierFactory


def _en(row) -> str:
    with translation.override("en"):
        return row.reason_text()


pytestmark = pytest.mark.django_db


@pytest.fixture
def tiers():
    return {
        "bronze": TierFactory(name="Bronze", rank=1, threshold=Decimal("0")),
        "silver": TierFactory(
            name="Silver",
            rank=2,
            threshold=Decimal("1000"),
            earn_multiplier=Decimal("1.25"),
            grace_days=10,
        ),
        "gold": TierFactory(
            name="Gold",
            rank=3,
            threshold=Decimal("5000"),
            earn_multiplier=Decimal("1.50"),
            grace_days=10,
        ),
    }


def _buy(member, store, total, receipt, **kw):
    purchase, _replayed = purchase_record(
        store=store, member=member, receipt_id=receipt, total=total, **kw
    )
    return purchase


def _tier(member):
    return PointsAccount.objects.select_related("tier").get(member=member).tier


def _assert_ledger_exact(member):
    total = LedgerEntry.objects.filter(account__member=member).aggregate(
        s=Sum("points")
    )["s"]
    assert member_balance_get(member_id=member.pk) == (total or 0)


def test_first_purchase_gives_the_first_tier_with_its_reason(member, store, tiers):
    _buy(member, store, "500.00", "r1")

    assert _tier(member) == tiers["bronze"]
    entry = TierHistory.objects.get(member=member)
    assert (entry.kind, entry.from_tier, entry.to_tier) == (
        TierHistory.Kind.INITIAL,
        None,
        tiers["bronze"],
    )
    assert (entry.reason_code, entry.reason_params) == (
        "tier_spend_months",
        {"amount": "500.00", "currency": "UAH", "months": 12},
    )
    assert _en(entry) == "Spent in the last 12 months: 500.00\xa0UAH"
    assert entry.value == Decimal("500.00")


def test_upgrade_happens_on_the_qualifying_purchase(member, store, tiers):
    _buy(member, store, "4000.00", "r1")
    assert _tier(member) == tiers["silver"]  # skips Bronze: highest it reaches

    _buy(member, store, "1240.00", "r2")

    account = PointsAccount.objects.get(member=member)
    assert account.tier == tiers["gold"]
    assert account.tier_since is not None
    last = TierHistory.objects.filter(member=member).first()
    assert (last.kind, last.from_tier, last.to_tier) == (
        TierHistory.Kind.UP,
        tiers["silver"],
        tiers["gold"],
    )
    assert last.reason_params["amount"] == "5240.00"
    assert _en(last) == "Spent in the last 12 months: 5,240.00\xa0UAH"
    assert TierHistory.objects.filter(member=member).count() == 2


def test_tier_multiplier_applies_to_earning_from_the_next_purchase(
    member, store, tiers
):
    first = _buy(member, store, "1000.00", "r1")  # no tier yet: base rate
    second = _buy(member, store, "100.00", "r2")  # Silver now: × 1.25

    assert (first.points_earned, first.points_per_unit) == (1000, Decimal("1.0000"))
    assert (second.points_earned, second.points_per_unit) == (125, Decimal("1.2500"))
    assert member_balance_get(member_id=member.pk) == 1125
    _assert_ledger_exact(member)


def test_return_after_an_upgrade_claws_back_at_the_purchase_rate(member, store, tiers):
    _buy(member, store, "1000.00", "r1")  # → Silver
    silver_purchase = _buy(member, store, "4000.00", "r2")  # at 1.25, → Gold
    assert _tier(member) == tiers["gold"]
    assert silver_purchase.points_earned == 5000

    ret, _replayed = purchase_return_record(
        purchase=silver_purchase, store=store, receipt_id="ret1", amount="400.00"
    )

    assert ret.points_reversed == 500  # 400 × 1.25, not × 1.5
    silver_purchase.refresh_from_db()
    assert silver_purchase.points_earned - silver_purchase.points_reversed == 4500
    _assert_ledger_exact(member)


def test_points_earned_qualification_counts_earn_entries_not_the_balance(member, store):
    TierFactory(
        name="Star",
        rank=1,
        qualification=TierQualification.POINTS_EARNED,
        threshold=Decimal("300"),
    )
    points_adjust(member=member, points=5000, reason="gift", created_by=None)
    tier_evaluate(member=member)
    assert _tier(member) is None  # a balance is not points earned

    _buy(member, store, "200.00", "r1")
    assert _tier(member) is None
    _buy(member, store, "100.00", "r2")

    assert _tier(member).name == "Star"
    assert _en(TierHistory.objects.get()) == (
        "Points earned in the last 12 months: 300"
    )


def test_visits_qualification_counts_purchases(member, store):
    TierFactory(
        name="Regular",
        rank=1,
        qualification=TierQualification.VISITS,
        threshold=Decimal("3"),
    )
    _buy(member, store, "5.00", "r1")
    _buy(member, store, "5.00", "r2")
    assert _tier(member) is None

    _buy(member, store, "5.00", "r3")

    assert _tier(member).name == "Regular"
    assert _en(TierHistory.objects.get()) == "Visits in the last 12 months: 3"


def test_calendar_year_window_ignores_last_year(member, store):
    TierFactory(
        name="Year club",
        rank=1,
        threshold=Decimal("1000"),
        window=TierWindow.CALENDAR_YEAR,
    )
    now = timezone.localtime()
    last_year = now.replace(year=now.year - 1)
    _buy(member, store, "900.00", "r1", occurred_at=last_year)
    _buy(member, store, "300.00", "r2")
    assert _tier(member) is None  # 1 200 in 12 months, but 300 this year

    _buy(member, store, "700.00", "r3")

    assert _tier(member).name == "Year club"
    assert _en(TierHistory.objects.get()) == (f"Spent in {now.year}: 1,000.00\xa0UAH")


def test_downgrade_waits_for_the_grace_days_then_moves_one_step(member, store, tiers):
    _buy(member, store, "5000.00", "r1")
    assert _tier(member) == tiers["gold"]
    later = timezone.localdate() + dt.timedelta(
        days=400
    )  # the purchase left the window

    assert tiers_downgrade_due(today=later) == 0  # grace starts
    assert PointsAccount.objects.get(member=member).tier_lapsed_on == later
    assert tiers_downgrade_due(today=later + dt.timedelta(days=9)) == 0
    assert _tier(member) == tiers["gold"]

    assert tiers_downgrade_due(today=later + dt.timedelta(days=10)) == 1

    assert _tier(member) == tiers["silver"]  # one step, not straight to Bronze
    down = TierHistory.objects.filter(member=member).first()
    assert (down.kind, down.from_tier, down.to_tier) == (
        TierHistory.Kind.DOWN,
        tiers["gold"],
        tiers["silver"],
    )
    assert down.reason_code == "tier_below"
    assert down.reason_params["tier_id"] == tiers["gold"].pk
    assert _en(down) == (
        "Spent in the last 12 months: 0.00\xa0UAH, below 5,000.00\xa0UAH for Gold "
        "after 10 days of grace"
    )


def test_downgrade_run_twice_the_same_day_moves_nobody_twice(member, store, tiers):
    tiers["silver"].grace_days = 0
    tiers["silver"].save()
    tiers["gold"].grace_days = 0
    tiers["gold"].save()
    _buy(member, store, "5000.00", "r1")
    day = timezone.localdate() + dt.timedelta(days=400)

    assert tiers_downgrade_due(today=day) == 1
    assert tiers_downgrade_due(today=day) == 0

    assert _tier(member) == tiers["silver"]
    assert TierHistory.objects.filter(kind=TierHistory.Kind.DOWN).count() == 1
    assert tiers_downgrade_due(today=day + dt.timedelta(days=1)) == 1
    assert _tier(member) == tiers["bronze"]


def test_downgrade_checks_members_in_chunks_and_keeps_those_who_qualify(
    member, store, tiers, other_store
):
    from members.tests.factories import MemberFactory

    keeper = MemberFactory(store=store)
    _buy(member, store, "1000.00", "r1")
    _buy(keeper, store, "1000.00", "r2")
    day = timezone.localdate() + dt.timedelta(days=200)
    _buy(keeper, other_store, "10.00", "r3")

    assert tiers_downgrade_due(today=day, batch=1) == 0  # both still qualify
    assert not PointsAccount.objects.filter(tier_lapsed_on__isnull=False).exists()
    assert tiers_downgrade_due(today=day + dt.timedelta(days=200), batch=1) == 0
    assert tiers_downgrade_due(today=day + dt.timedelta(days=210), batch=1) == 2
    assert _tier(member) == _tier(keeper) == tiers["bronze"]


def test_reward_for_some_tiers_is_refused_to_others(member, store, tiers):
    lounge = RewardFactory(name="Lounge pass", points_cost=100)
    lounge.tiers.set([tiers["silver"], tiers["gold"]])
    _buy(member, store, "500.00", "r1")  # Bronze

    with pytest.raises(
        Conflict,
        match="^“Lounge pass” is only for members of the tiers Silver, Gold.$",
    ):
        reward_redeem(member=member, reward=lounge, idempotency_key="k1")

    _buy(member, store, "600.00", "r2")  # Silver
    voucher, replayed = reward_redeem(
        member=member, reward=lounge, idempotency_key="k2"
    )
    assert not replayed and voucher.reward == lounge
    _assert_ledger_exact(member)


def test_progress_says_what_is_missing_and_by_when(member, store, tiers):
    _buy(member, store, "760.00", "r1")
    member.account.refresh_from_db()

    progress = tier_progress_get(member=member)

    assert (progress.current, progress.next) == (tiers["bronze"], tiers["silver"])
    assert progress.missing == Decimal("240.00")
    assert progress.percent == 76
    assert progress.sentence.startswith("Spend 240.00\u00a0UAH more by ")
    assert progress.sentence.endswith(" to reach Silver.")
    assert progress.keep_sentence == "Bronze is yours to keep."


def test_a_qualifying_purchase_cancels_a_pending_downgrade(member, store, tiers):
    long_ago = timezone.now() - dt.timedelta(days=400)
    _buy(member, store, "1000.00", "r1", occurred_at=long_ago, recorded_at=long_ago)
    assert _tier(member) == tiers["silver"]
    today = timezone.localdate()
    assert tiers_downgrade_due(today=today) == 0
    assert PointsAccount.objects.get(member=member).tier_lapsed_on == today

    _buy(member, store, "1000.00", "r2")  # Silver's threshold again, at × 1.25

    assert PointsAccount.objects.get(member=member).tier_lapsed_on is None
    assert tiers_downgrade_due(today=today + dt.timedelta(days=10)) == 0
    assert _tier(member) == tiers["silver"]
    assert not TierHistory.objects.filter(kind=TierHistory.Kind.DOWN).exists()
