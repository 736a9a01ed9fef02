"""Earning rules in their documented order, the breakdown on every earn entry,
returns that claw back promotion points, and points lots: soonest-expiring
spent first, pending points, expiry by lot."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db.models import Sum
from django.utils import timezone

from members.errors import Conflict
from rewards.models import (
    LedgerEntry,
    LedgerKind,
    PointsLot,
    RuleKind,
    RuleStatus,
)
from rewards.selectors.invariants import ledger_invariant_violations
from rewards.selectors.ledger import points_available_get, points_outlook_get
from rewards.selectors.program import program_settings_get
from rewards.services import (
    LineInput,
    ReturnLineInput,
    points_bonus_grant,
    points_expire_due,
    points_redeem,
    purchase_record,
    purchase_return_record,
    reward_redeem,
    voucher_cancel,
)
from rewards.tests.factories import EarningRuleFactory, RewardFactory, TierFactory

pytestmark = pytest.mark.django_db

# Saturday 2026-11-21 17:00 and Monday 2026-11-23 10:00, Kyiv time.
SATURDAY_5PM = dt.datetime(2026, 11, 21, 15, 0, tzinfo=dt.UTC)
MONDAY_10AM = dt.datetime(2026, 11, 23, 8, 0, tzinfo=dt.UTC)

COFFEE = LineInput(
    sku="LATTE", quantity=Decimal(3), unit_price=Decimal("40.00"), category="Coffee"
)
CAKE = LineInput(
    sku="CAKE", quantity=Decimal(1), unit_price=Decimal("100.00"), category="bakery"
)
TOBACCO = LineInput(
    sku="CIG", quantity=Decimal(1), unit_price=Decimal("80.00"), category="tobacco"
)

_n = iter(range(1, 10**6))


def buy(member, store, lines, **kw):
    purchase, _replayed = purchase_record(
        store=store,
        member=member,
        receipt_id=f"R{next(_n)}",
        lines=lines,
        **{"occurred_at": MONDAY_10AM, **kw},
    )
    return purchase


def earn_entry(purchase) -> LedgerEntry:
    return LedgerEntry.objects.get(purchase=purchase, kind=LedgerKind.EARN)


def balance_is_exact(member) -> bool:
    entries = LedgerEntry.objects.filter(account__member=member).aggregate(
        s=Sum("points")
    )["s"]
    return member.account.__class__.objects.get(member=member).balance == (entries or 0)


class TestRuleOrderAndBreakdown:
    def test_base_rate_alone_is_one_base_item(self, member, store):
        purchase = buy(member, store, [COFFEE, CAKE])
        assert purchase.points_earned == 220
        assert earn_entry(purchase).breakdown == [
            {
                "stage": "base",
                "rule": None,
                "name": "",
                "multiplier": "1",
                "points": 220,
            }
        ]

    def test_every_stage_in_order_adds_up(self, member, store):
        """coffee 120 UAH, cake 100 UAH, tobacco 80 UAH at 1 point per UAH, Gold
        ×1.5, on a Saturday with a ×2 weekend promotion:
        tobacco excluded; coffee 120 ×3 (largest product multiplier, not ×2)
        = 360 + 3×5 fixed = 375; cake 100 + 20 fixed = 120; subtotal 495;
        tier ×1.5 → 742.5; promotion ×2 → 1485."""
        gold = TierFactory(
            name="Gold", threshold=Decimal("0"), earn_multiplier=Decimal("1.5")
        )
        member.account.tier = gold
        member.account.save()
        EarningRuleFactory(kind=RuleKind.EXCLUDE, category="TOBACCO", name="No tobacco")
        x2 = EarningRuleFactory(
            category="coffee", multiplier=Decimal("2"), name="Coffee x2"
        )
        x3 = EarningRuleFactory(
            sku="LATTE", category="", multiplier=Decimal("3"), name="Latte x3"
        )
        fixed = EarningRuleFactory(
            kind=RuleKind.FIXED, category="coffee", points_per_unit=5, name="+5 a cup"
        )
        cake = EarningRuleFactory(
            kind=RuleKind.FIXED,
            sku="CAKE",
            category="",
            points_per_unit=20,
            name="+20 cake",
        )
        weekend = EarningRuleFactory(
            kind=RuleKind.PROMOTION,
            category="",
            multiplier=Decimal("2"),
            weekdays="56",
            name="Weekend x2",
        )
        EarningRuleFactory(  # smaller, also matching: the largest promotion wins
            kind=RuleKind.PROMOTION,
            category="",
            multiplier=Decimal("1.5"),
            name="Autumn",
        )
        purchase = buy(member, store, [COFFEE, CAKE, TOBACCO], occurred_at=SATURDAY_5PM)
        assert purchase.points_earned == 1485
        assert purchase.eligible_total == Decimal("220.00")
        items = {
            (i["stage"], i["rule"]): i["points"] for i in earn_entry(purchase).breakdown
        }
        assert items == {
            ("base", None): 220,
            ("product", x3.pk): 240,
            ("fixed", fixed.pk): 15,
            ("fixed", cake.pk): 20,
            ("tier", None): 248,  # 247.5 rounded by largest remainder
            ("promotion", weekend.pk): 742,  # 742.5
        }
        assert sum(items.values()) == 1485
        assert ("product", x2.pk) not in items

    def test_a_promotion_outside_its_days_hours_stores_or_dates_gives_nothing(
        self, member, store, other_store
    ):
        EarningRuleFactory(kind=RuleKind.PROMOTION, category="", weekdays="56")
        EarningRuleFactory(
            kind=RuleKind.PROMOTION,
            category="coffee",
            multiplier=Decimal("3"),
            time_from=dt.time(16),
            time_to=dt.time(18),
        )
        EarningRuleFactory(kind=RuleKind.PROMOTION, category="", stores=[other_store])
        EarningRuleFactory(
            kind=RuleKind.PROMOTION,
            category="",
            ends_at=MONDAY_10AM - dt.timedelta(days=1),
        )
        EarningRuleFactory(
            kind=RuleKind.PROMOTION, category="", status=RuleStatus.DRAFT
        )
        EarningRuleFactory(
            kind=RuleKind.PROMOTION, category="", status=RuleStatus.PAUSED
        )
        assert buy(member, store, [COFFEE]).points_earned == 120

    def test_coffee_hour_promotion_applies_between_its_hours_only(self, member, store):
        EarningRuleFactory(
            kind=RuleKind.PROMOTION,
            category="coffee",
            multiplier=Decimal("3"),
            time_from=dt.time(16),
            time_to=dt.time(18),
        )
        assert (
            buy(member, store, [COFFEE, CAKE], occurred_at=SATURDAY_5PM).points_earned
            == 460
        )
        assert buy(member, store, [COFFEE, CAKE]).points_earned == 220

    def test_minimum_spend_counts_only_lines_that_can_earn(self, member, store):
        conf = program_settings_get()
        conf.min_purchase = Decimal("150")
        conf.save()
        EarningRuleFactory(kind=RuleKind.EXCLUDE, category="tobacco")
        assert buy(member, store, [COFFEE, TOBACCO]).points_earned == 0  # 120 < 150
        assert buy(member, store, [COFFEE, CAKE]).points_earned == 220

    def test_statement_explains_the_rules(self, member, store):
        from rewards.selectors.statement import earn_breakdown_explain

        EarningRuleFactory(category="coffee", multiplier=Decimal("2"), name="Coffee x2")
        silver = TierFactory(name="Silver", earn_multiplier=Decimal("1.50"))
        member.account.tier = silver
        member.account.save()
        entry = earn_entry(buy(member, store, [COFFEE]))
        lines = earn_breakdown_explain(entry, currency="UAH")
        assert [(line["label"], line["points"]) for line in lines] == [
            ("Base rate: 1 per 1\u00a0UAH", 120),
            ("Coffee x2 (×2)", 120),
            ("Silver tier (×1.5)", 120),
        ]


class TestReturns:
    def test_returning_a_promoted_line_takes_back_its_promotion_points(
        self, member, store
    ):
        EarningRuleFactory(
            kind=RuleKind.PROMOTION,
            category="coffee",
            multiplier=Decimal("3"),
            time_from=dt.time(16),
            time_to=dt.time(18),
        )
        purchase = buy(member, store, [COFFEE, CAKE], occurred_at=SATURDAY_5PM)
        assert purchase.points_earned == 460  # coffee 360, cake 100
        ret, _ = purchase_return_record(
            purchase=purchase,
            store=store,
            receipt_id="RET1",
            lines=[ReturnLineInput(sku="LATTE", quantity=Decimal(1))],
        )
        assert ret.points_reversed == 120  # one cup: 40 × 3
        ret, _ = purchase_return_record(
            purchase=purchase, store=store, receipt_id="RET2", amount=Decimal("100.00")
        )
        # 80 UAH of coffee (240 points) and the 100 UAH cake (100) were kept;
        # 100 UAH back by amount leaves 80/180 of it: floor(340 × 80/180) = 151
        assert ret.points_reversed == 340 - 151
        ret, _ = purchase_return_record(
            purchase=purchase, store=store, receipt_id="RET3", amount=Decimal("80.00")
        )
        assert ret.points_reversed == 151
        purchase.refresh_from_db()
        assert purchase.points_reversed == purchase.points_earned == 460
        assert balance_is_exact(member)

    def test_falling_below_the_minimum_takes_back_everything(self, member, store):
        conf = program_settings_get()
        conf.min_purchase = Decimal("200")
        conf.save()
        purchase = buy(member, store, [COFFEE, CAKE])
        ret, _ = purchase_return_record(
            purchase=purchase,
            store=store,
            receipt_id="RET1",
            lines=[ReturnLineInput(sku="CAKE", quantity=Decimal(1))],
        )
        assert ret.points_reversed == 220


class TestLots:
    @pytest.fixture
    def expiring(self):
        conf = program_settings_get()
        conf.points_expire_months = 12
        conf.save()
        return conf

    def test_soonest_expiring_points_are_spent_first(self, member, store, expiring):
        now = timezone.now()
        old = points_bonus_grant(
            member=member,
            points=100,
            reason="old",
            idempotency_key="b1",
            recorded_at=now - dt.timedelta(days=300),
        )
        new = points_bonus_grant(
            member=member,
            points=100,
            reason="new",
            idempotency_key="b2",
            recorded_at=now - dt.timedelta(days=10),
        )
        points_redeem(member=member, store=store, points=130, receipt_id="S1")
        old_lot, new_lot = (
            PointsLot.objects.get(entry=old),
            PointsLot.objects.get(entry=new),
        )
        assert (old_lot.remaining, new_lot.remaining) == (0, 70)
        assert (
            old_lot.expires_at.date()
            == (old.created_at + dt.timedelta(days=365)).date()
        )

    def test_expiry_job_expires_once_and_says_when(self, member, store, expiring):
        now = timezone.now()
        entry = points_bonus_grant(
            member=member,
            points=100,
            reason="old",
            idempotency_key="b1",
            recorded_at=now - dt.timedelta(days=400),
        )
        points_bonus_grant(member=member, points=50, reason="new", idempotency_key="b2")
        points_redeem(member=member, store=store, points=30, receipt_id="S1")
        assert points_expire_due(now=now) == 1
        assert points_expire_due(now=now) == 0
        expired = LedgerEntry.objects.get(
            account__member=member, kind=LedgerKind.EXPIRE
        )
        assert expired.points == -70
        assert PointsLot.objects.get(entry=entry).expiry_entry == expired
        member.account.refresh_from_db()
        assert member.account.balance == 50
        assert not ledger_invariant_violations()

    def test_pending_points_cannot_be_spent_until_their_day(self, member, store):
        conf = program_settings_get()
        conf.pending_days = 14
        conf.save()
        buy(member, store, [CAKE], recorded_at=timezone.now() - dt.timedelta(days=15))
        buy(member, store, [CAKE])
        assert points_available_get(account=member.account) == (100, 100)
        with pytest.raises(
            Conflict, match="100 can be spent now, 100 more are pending"
        ):
            points_redeem(member=member, store=store, points=150, receipt_id="S1")
        with pytest.raises(Conflict, match="100 more are pending"):
            reward_redeem(
                member=member,
                reward=RewardFactory(points_cost=150),
                idempotency_key="k",
            )
        points_redeem(member=member, store=store, points=100, receipt_id="S2")
        assert points_available_get(account=member.account) == (0, 100)
        assert not ledger_invariant_violations()

    def test_a_return_takes_its_own_purchase_points_first(
        self, member, store, expiring
    ):
        points_bonus_grant(
            member=member,
            points=100,
            reason="old",
            idempotency_key="b1",
            recorded_at=timezone.now() - dt.timedelta(days=200),
        )
        purchase = buy(member, store, [CAKE])
        purchase_return_record(
            purchase=purchase, store=store, receipt_id="RET1", amount=Decimal("100.00")
        )
        lots = dict(PointsLot.objects.values_list("entry__kind", "remaining"))
        assert lots == {LedgerKind.BONUS: 100, LedgerKind.EARN: 0}

    def test_a_refund_comes_back_with_the_expiry_it_had(self, member, store, expiring):
        entry = points_bonus_grant(
            member=member,
            points=100,
            reason="old",
            idempotency_key="b1",
            recorded_at=timezone.now() - dt.timedelta(days=100),
        )
        voucher, _ = reward_redeem(
            member=member,
            reward=RewardFactory(points_cost=60, refund_points_on_cancel=True),
            idempotency_key="v1",
        )
        voucher_cancel(voucher=voucher, by=None)
        refund = LedgerEntry.objects.get(voucher=voucher, kind=LedgerKind.REFUND)
        assert refund.lot.expires_at == PointsLot.objects.get(entry=entry).expires_at

    def test_verify_ledger_finds_lots_out_of_step(self, member, store):
        points_bonus_grant(member=member, points=100, reason="x", idempotency_key="b1")
        PointsLot.objects.filter(account__member=member).update(remaining=90)
        assert [v.check for v in ledger_invariant_violations()] == ["lots"]

    def test_purchase_recording_costs_a_bounded_number_of_queries(
        self, member, store, django_assert_max_num_queries
    ):
        EarningRuleFactory(kind=RuleKind.PROMOTION, category="", stores=[store])
        EarningRuleFactory(category="coffee")
        buy(member, store, [COFFEE])
        with django_assert_max_num_queries(17):
            buy(member, store, [COFFEE, CAKE, TOBACCO])


def test_outlook_tells_pending_and_the_next_expiry(member, store):
    conf = program_settings_get()
    conf.points_expire_months = 12
    conf.pending_days = 14
    conf.save()
    now = timezone.now()
    for i, days_ago in enumerate((360, 360, 300)):
        points_bonus_grant(
            member=member,
            points=10 * (i + 1),
            reason="b",
            idempotency_key=f"b{i}",
            recorded_at=now - dt.timedelta(days=days_ago) + dt.timedelta(minutes=i),
        )
    buy(member, store, [CAKE])
    outlook = points_outlook_get(account=member.account)
    assert (outlook.pending, outlook.expiring) == (100, 30)
    assert outlook.pending_until.date() == (now + dt.timedelta(days=14)).date()
    # the two bonuses of 365 days ago expire together in about five days
    first = PointsLot.objects.order_by("expires_at").first()
    assert outlook.expiring_on == timezone.localtime(first.expires_at).date()
    assert 3 <= (outlook.expiring_on - timezone.localdate()).days <= 7
