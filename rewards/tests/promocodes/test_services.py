"""Promo codes in a purchase: effects, limits, stacking, returns, online codes."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from members.errors import Conflict, InvalidInput, NotFound
from members.tests.factories import MemberFactory, StoreFactory
from rewards.models import (
    LedgerEntry,
    LedgerKind,
    PointsAccount,
    PromoCode,
    PromoCodeKey,
    PromoCodeUse,
    PromoEffect,
    PromoStacking,
    RuleKind,
    Voucher,
    VoucherStatus,
)
from rewards.selectors.invariants import ledger_invariant_violations
from rewards.selectors.program import program_settings_get
from rewards.services import purchase_record, purchase_return_record
from rewards.services.promocode_online import promo_code_redeem_online
from rewards.services.promocodes import (
    promo_code_validate,
    promo_eligibility_register,
)
from rewards.tests.factories import (
    EarningRuleFactory,
    PromoCodeFactory,
    RewardFactory,
    TierFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def program(db):
    """1 point per currency unit, no minimum, no pending days, a point worth 0.10."""
    conf = program_settings_get()
    conf.points_per_unit = Decimal("1")
    conf.min_purchase = Decimal("0")
    conf.point_value = Decimal("0.10")
    conf.pending_days = 0
    conf.earn_cap_percent = None
    conf.save()
    return conf


@pytest.fixture
def member(store):
    return MemberFactory(store=store)


def _buy(store, member, receipt, total="100.00", code=None, **kwargs):
    purchase, replayed = purchase_record(
        store=store,
        member=member,
        receipt_id=receipt,
        total=total,
        promo_code=code,
        **kwargs,
    )
    return purchase, replayed


def _balance(member) -> int:
    return PointsAccount.objects.get(member=member).balance


def _no_violations():
    assert list(ledger_invariant_violations()) == []


class TestEffects:
    def test_bonus_points_come_as_their_own_entry(self, store, member):
        promo = PromoCodeFactory(code="SPRING25", points=250)

        purchase, _ = _buy(store, member, "R-1", code=" spring-25 ")

        assert purchase.points_earned == 100
        use = PromoCodeUse.objects.get(purchase=purchase)
        assert (use.points, use.revenue, use.key.code) == (
            250,
            Decimal("100.00"),
            "SPRING25",
        )
        assert use.entry.kind == LedgerKind.BONUS
        assert use.entry.purchase_id == purchase.pk
        assert _balance(member) == 350
        purchase.refresh_from_db()
        assert purchase.balance_after == 350
        promo.refresh_from_db()
        assert promo.uses_count == 1
        assert str(use.entry.reason_text()) == f"Promo code SPRING25: {promo.name}"
        _no_violations()

    def test_multiplier_doubles_what_the_purchase_earned(self, store, member):
        PromoCodeFactory(
            code="DOUBLE",
            effect=PromoEffect.MULTIPLIER,
            points=None,
            multiplier=Decimal("2"),
        )
        purchase, _ = _buy(store, member, "R-1", total="123.40", code="DOUBLE")
        assert purchase.points_earned == 123
        assert PromoCodeUse.objects.get().points == 123
        assert _balance(member) == 246

    def test_multiplier_stays_under_the_cap(self, store, member, program):
        program.earn_cap_percent = Decimal("15")  # 150 points on 100.00
        program.save()
        PromoCodeFactory(
            code="X5",
            effect=PromoEffect.MULTIPLIER,
            points=None,
            multiplier=Decimal("5"),
        )
        _buy(store, member, "R-1", total="100.00", code="X5")
        assert PromoCodeUse.objects.get().points == 50
        assert _balance(member) == 150

    def test_percent_discount_is_recorded_from_what_was_paid(self, store, member):
        PromoCodeFactory(
            code="MINUS15",
            effect=PromoEffect.DISCOUNT_PERCENT,
            points=None,
            discount_percent=Decimal("15"),
            min_spend=Decimal("100"),
        )
        # A basket of 100.00, 15 % off: the till sends 85.00 paid.
        purchase, _ = _buy(store, member, "R-1", total="85.00", code="MINUS15")
        use = PromoCodeUse.objects.get()
        assert use.discount == Decimal("15.00")
        assert purchase.points_earned == 85  # earned on what was paid
        assert _balance(member) == 85

    def test_voucher_code_gives_a_voucher(self, store, member):
        reward = RewardFactory(name="Coffee")
        PromoCodeFactory(
            code="COFFEE", effect=PromoEffect.VOUCHER, points=None, reward=reward
        )
        purchase, _ = _buy(store, member, "R-1", code="COFFEE")
        use = PromoCodeUse.objects.get(purchase=purchase)
        assert use.voucher.reward == reward
        assert use.voucher.member == member
        assert use.voucher.points_spent == 0


class TestRefusals:
    def _refused(self, store, member, code, total="100.00"):
        with pytest.raises((InvalidInput, Conflict, NotFound)) as info:
            promo_code_validate(
                code=code, member=member, store=store, total=Decimal(total)
            )
        return info.value

    def test_unknown_code(self, store, member):
        error = self._refused(store, member, "NOPE")
        assert isinstance(error, NotFound)
        assert (error.field, error.extra["reason"]) == ("code", "unknown")

    @pytest.mark.parametrize(
        ("changes", "reason"),
        [
            ({"active": False}, "inactive"),
            ({"starts_at": timezone.now() + dt.timedelta(days=1)}, "not_yet_valid"),
            ({"ends_at": timezone.now() - dt.timedelta(days=1)}, "expired"),
            ({"min_spend": Decimal("200")}, "below_min_spend"),
        ],
    )
    def test_the_reason_is_named(self, store, member, changes, reason):
        PromoCodeFactory(code="C1", **changes)
        error = self._refused(store, member, "C1")
        assert isinstance(error, InvalidInput)
        assert error.extra["reason"] == reason

    def test_wrong_store(self, store, member):
        promo = PromoCodeFactory(code="C1")
        promo.stores.set([StoreFactory()])
        assert self._refused(store, member, "C1").extra["reason"] == "wrong_store"

    def test_tier_eligibility(self, store, member):
        gold = TierFactory(name="Gold")
        promo = PromoCodeFactory(code="GOLD")
        promo.tiers.set([gold])
        assert self._refused(store, member, "GOLD").extra["reason"] == (
            "not_eligible_tier"
        )
        PointsAccount.objects.filter(member=member).update(tier=gold)
        assert (
            promo_code_validate(
                code="gold", member=member, store=store, total=Decimal("1")
            ).points
            == 100
        )

    def test_registered_eligibility_check(self, store, member, monkeypatch):
        from rewards.services import promocodes

        monkeypatch.setattr(promocodes, "ELIGIBILITY_CHECKS", [])
        promo_eligibility_register(lambda promo, m: m.pk != member.pk)
        PromoCodeFactory(code="SEG")
        assert self._refused(store, member, "SEG").extra["reason"] == (
            "not_eligible_segment"
        )

    def test_total_limit_refuses_the_purchase(self, store, member):
        PromoCodeFactory(code="TWO", max_uses=2)
        _buy(store, member, "R-1", code="TWO")
        _buy(store, MemberFactory(store=store), "R-2", code="TWO")
        with pytest.raises(Conflict, match="TWO has been used up") as info:
            _buy(store, member, "R-3", code="TWO")
        assert info.value.field == "promo_code"
        assert info.value.extra["reason"] == "limit_reached"
        assert not member.purchases.filter(receipt_id="R-3").exists()

    def test_member_and_day_limits(self, store, member):
        PromoCodeFactory(code="ONCE", max_uses_per_member=1, max_uses_per_day=2)
        _buy(store, member, "R-1", code="ONCE")
        with pytest.raises(Conflict) as info:
            _buy(store, member, "R-2", code="ONCE")
        assert info.value.extra["reason"] == "member_limit_reached"
        _buy(store, MemberFactory(store=store), "R-3", code="ONCE")
        with pytest.raises(Conflict) as info:
            _buy(store, MemberFactory(store=store), "R-4", code="ONCE")
        assert info.value.extra["reason"] == "day_limit_reached"

    def test_a_batch_code_is_used_once(self, store, member):
        promo = PromoCodeFactory(mode="batch")
        PromoCodeKey.objects.create(code="ABCDEFGH23", promo=promo, max_uses=1)
        _buy(store, member, "R-1", code="ABCDEFGH23")
        with pytest.raises(Conflict):
            _buy(store, MemberFactory(store=store), "R-2", code="ABCDEFGH23")


class TestIdempotency:
    def test_a_replay_with_the_code_uses_it_once(self, store, member):
        promo = PromoCodeFactory(code="SPRING25", max_uses=5)
        first, replayed = _buy(store, member, "R-1", code="SPRING25")
        again, replayed = _buy(store, member, "R-1", code="spring25")
        assert replayed and again.pk == first.pk
        promo.refresh_from_db()
        assert promo.uses_count == 1
        assert _balance(member) == 200

    def test_the_same_receipt_with_another_code_is_a_conflict(self, store, member):
        PromoCodeFactory(code="A1")
        _buy(store, member, "R-1")
        with pytest.raises(Conflict):
            _buy(store, member, "R-1", code="A1")


class TestStacking:
    @pytest.fixture
    def promotion(self, store):
        return EarningRuleFactory(
            kind=RuleKind.PROMOTION, category="", multiplier=Decimal("3")
        )

    def test_stack_earns_both(self, store, member, promotion):
        PromoCodeFactory(code="C", points=50, stacking=PromoStacking.STACK)
        purchase, _ = _buy(store, member, "R-1", code="C")
        assert (purchase.points_earned, _balance(member)) == (300, 350)

    def test_replace_drops_the_promotions(self, store, member, promotion):
        PromoCodeFactory(code="C", points=50, stacking=PromoStacking.REPLACE)
        purchase, _ = _buy(store, member, "R-1", code="C")
        assert (purchase.points_earned, _balance(member)) == (100, 150)

    def test_best_of_keeps_the_promotions_when_they_give_more(
        self, store, member, promotion
    ):
        promo = PromoCodeFactory(code="C", points=50, stacking=PromoStacking.BEST_OF)
        purchase, _ = _buy(store, member, "R-1", code="C")
        assert (purchase.points_earned, _balance(member)) == (300, 300)
        assert not PromoCodeUse.objects.exists()
        promo.refresh_from_db()
        assert promo.uses_count == 0

    def test_best_of_takes_the_code_when_it_gives_more(self, store, member, promotion):
        PromoCodeFactory(code="C", points=500, stacking=PromoStacking.BEST_OF)
        purchase, _ = _buy(store, member, "R-1", code="C")
        assert (purchase.points_earned, _balance(member)) == (100, 600)


class TestReturns:
    def test_a_partial_return_keeps_the_use(self, store, member):
        promo = PromoCodeFactory(code="C", points=50)
        purchase, _ = _buy(store, member, "R-1", code="C")
        purchase_return_record(
            purchase=purchase, store=store, receipt_id="RT-1", amount="40.00"
        )
        promo.refresh_from_db()
        assert promo.uses_count == 1
        assert _balance(member) == 60 + 50
        _no_violations()

    def test_the_whole_return_reverses_the_use_once(self, store, member):
        reward = RewardFactory()
        promo = PromoCodeFactory(code="C", points=50, max_uses=1)
        purchase, _ = _buy(store, member, "R-1", code="C")
        purchase_return_record(
            purchase=purchase, store=store, receipt_id="RT-1", amount="40.00"
        )
        ret, _ = purchase_return_record(
            purchase=purchase, store=store, receipt_id="RT-2", amount="60.00"
        )
        use = PromoCodeUse.objects.get()
        assert use.reversed_at is not None
        assert use.reversal_entry.points == -50
        assert use.reversal_entry.purchase_return_id == ret.pk
        assert _balance(member) == 0
        ret.refresh_from_db()
        assert ret.balance_after == 0
        promo.refresh_from_db()
        assert promo.uses_count == 0
        # Replaying the return changes nothing; the freed place can be used again.
        purchase_return_record(
            purchase=purchase, store=store, receipt_id="RT-2", amount="60.00"
        )
        assert (
            LedgerEntry.objects.filter(reason_code="promo_code_reversed").count() == 1
        )
        _buy(store, member, "R-2", code="C")
        _no_violations()
        del reward

    def test_a_whole_return_cancels_an_unused_voucher(self, store, member):
        PromoCodeFactory(
            code="V", effect=PromoEffect.VOUCHER, points=None, reward=RewardFactory()
        )
        purchase, _ = _buy(store, member, "R-1", code="V")
        purchase_return_record(
            purchase=purchase, store=store, receipt_id="RT-1", amount="100.00"
        )
        assert Voucher.objects.get().status == VoucherStatus.CANCELLED


class TestOnline:
    def test_a_member_enters_a_bonus_code_once_per_form(self, member):
        PromoCodeFactory(code="WELCOME", points=75, max_uses_per_member=1)
        use, replayed = promo_code_redeem_online(
            member=member, code="welcome", idempotency_key="form-1"
        )
        assert (use.points, replayed, _balance(member)) == (75, False, 75)
        again, replayed = promo_code_redeem_online(
            member=member, code="welcome", idempotency_key="form-1"
        )
        assert replayed and again.pk == use.pk
        with pytest.raises(Conflict) as info:
            promo_code_redeem_online(
                member=member, code="welcome", idempotency_key="form-2"
            )
        assert info.value.extra["reason"] == "member_limit_reached"
        assert _balance(member) == 75

    def test_a_discount_code_is_for_the_till(self, member):
        PromoCodeFactory(
            code="MINUS",
            effect=PromoEffect.DISCOUNT_FIXED,
            points=None,
            discount_amount=Decimal("5"),
        )
        with pytest.raises(InvalidInput) as info:
            promo_code_redeem_online(member=member, code="MINUS", idempotency_key="k")
        assert info.value.extra["reason"] == "till_only"
        assert PromoCode.objects.get().uses_count == 0
