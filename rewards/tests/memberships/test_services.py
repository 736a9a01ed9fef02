"""Paid membership: selling and renewing at the till, cancelling, the nightly
expiry, one perk voucher a month, one reminder a period, the plan's earn
multiplier and its guaranteed tier."""

import datetime as dt
from decimal import Decimal

import pytest
from dateutil.relativedelta import relativedelta
from django.utils import timezone

from members.errors import Conflict, InvalidInput
from members.tests.factories import MemberFactory, PartnerFactory, StoreFactory
from rewards.models import (
    PointsAccount,
    Subscription,
    SubscriptionEvent,
    SubscriptionEventKind,
    SubscriptionStatus,
    TierHistory,
    Voucher,
    VoucherSource,
)
from rewards.selectors.memberships import (
    membership_active_get,
    membership_earn_multiplier,
)
from rewards.services import (
    membership_vouchers_issue_due,
    purchase_record,
    purchase_return_record,
    subscription_cancel,
    subscription_sell,
    subscriptions_expire_due,
    subscriptions_remind_due,
    tiers_downgrade_due,
)
from rewards.tests.factories import MembershipPlanFactory, RewardFactory, TierFactory

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2026, 3, 10, 12, 0, tzinfo=dt.UTC)


@pytest.fixture
def coffee():
    return RewardFactory(name="Coffee", points_cost=100)


@pytest.fixture
def plan(coffee):
    return MembershipPlanFactory(name="Club", monthly_reward=coffee)


def _sell(member, plan, store, receipt="M-1", at=T0, **kw):
    return subscription_sell(
        member=member, plan=plan, store=store, receipt_id=receipt, at=at, **kw
    )


class TestSell:
    def test_sale_starts_a_subscription_for_one_period(self, member, plan, store):
        sub, replayed = _sell(member, plan, store)

        assert replayed is False
        assert sub.status == SubscriptionStatus.ACTIVE
        assert sub.started_at == T0
        assert sub.current_period_end == T0 + relativedelta(months=1)
        event = sub.events.get(kind=SubscriptionEventKind.STARTED)
        assert (event.store, event.receipt_id, event.price_paid) == (
            store,
            "M-1",
            Decimal("99.00"),
        )

    def test_sale_issues_this_months_voucher_at_once(self, member, plan, store, coffee):
        sub, _r = _sell(member, plan, store)

        voucher = Voucher.objects.get(member=member)
        assert voucher.reward == coffee
        assert voucher.source == VoucherSource.MEMBERSHIP
        assert voucher.points_spent == 0
        assert voucher.idempotency_key == f"membership:{sub.pk}:2026-03"
        assert sub.events.filter(kind=SubscriptionEventKind.VOUCHER).count() == 1

    def test_replayed_sale_returns_the_first_without_a_second_period(
        self, member, plan, store
    ):
        first, _r = _sell(member, plan, store)
        again, replayed = _sell(member, plan, store, at=T0 + dt.timedelta(minutes=5))

        assert replayed is True
        assert again.pk == first.pk
        again.refresh_from_db()
        assert again.current_period_end == T0 + relativedelta(months=1)
        assert SubscriptionEvent.objects.exclude(receipt_id="").count() == 1
        assert Voucher.objects.count() == 1

    def test_same_receipt_for_another_member_is_refused(self, member, plan, store):
        _sell(member, plan, store)
        other = MemberFactory(store=store)

        with pytest.raises(Conflict, match="Receipt M-1 was already recorded"):
            _sell(other, plan, store)

    def test_renewal_extends_from_the_current_end_when_paid_early(
        self, member, plan, store
    ):
        _sell(member, plan, store)
        sub, replayed = _sell(member, plan, store, "M-2", at=T0 + dt.timedelta(days=20))

        assert replayed is False
        assert Subscription.objects.count() == 1
        assert sub.current_period_end == T0 + relativedelta(months=2)
        assert sub.events.filter(kind=SubscriptionEventKind.RENEWED).count() == 1

    def test_renewal_after_the_end_starts_a_new_subscription(self, member, plan, store):
        first, _r = _sell(member, plan, store)
        later = T0 + relativedelta(months=1, days=3)
        sub, _r = _sell(member, plan, store, "M-2", at=later)

        first.refresh_from_db()
        assert first.status == SubscriptionStatus.EXPIRED
        assert sub.pk != first.pk
        assert sub.current_period_end == later + relativedelta(months=1)

    def test_another_plan_while_one_is_active_is_refused(self, member, plan, store):
        _sell(member, plan, store)
        gold = MembershipPlanFactory(name="Gold club")

        with pytest.raises(Conflict, match="already has the “Club” membership"):
            _sell(member, gold, store, "M-2")

    def test_plan_not_on_sale_is_refused(self, member, plan, store):
        plan.is_active = False
        plan.save()

        with pytest.raises(Conflict, match="not on sale"):
            _sell(member, plan, store)

    def test_partner_store_cannot_sell(self, member, plan):
        bakery = StoreFactory(code="bakery", partner=PartnerFactory())

        with pytest.raises(Conflict, match="own stores only"):
            _sell(member, plan, bakery)

    def test_empty_receipt_is_invalid_input(self, member, plan, store):
        with pytest.raises(InvalidInput, match="Enter the receipt id") as err:
            _sell(member, plan, store, "  ")
        assert err.value.field == "receipt_id"


class TestCancel:
    def test_cancel_ends_the_perks_at_once(self, member, plan, store, manager):
        sub, _r = _sell(member, plan, store, at=timezone.now())

        subscription_cancel(subscription=sub, by=manager, reason="Refunded")

        sub.refresh_from_db()
        assert sub.status == SubscriptionStatus.CANCELLED
        assert sub.cancelled_by == manager
        assert membership_active_get(member_id=member.pk) is None
        assert membership_earn_multiplier(member_id=member.pk) == 1
        assert sub.events.filter(kind=SubscriptionEventKind.CANCELLED).count() == 1

    def test_cancel_twice_changes_nothing(self, member, plan, store):
        sub, _r = _sell(member, plan, store, at=timezone.now())
        subscription_cancel(subscription=sub, by=None)
        subscription_cancel(subscription=sub, by=None)

        assert sub.events.filter(kind=SubscriptionEventKind.CANCELLED).count() == 1

    def test_cancel_of_an_expired_one_is_refused(self, member, plan, store):
        sub, _r = _sell(member, plan, store)
        subscriptions_expire_due(now=T0 + relativedelta(months=2))

        with pytest.raises(Conflict, match="already ended"):
            subscription_cancel(subscription=sub, by=None)

    def test_a_new_plan_can_be_sold_after_cancelling(self, member, plan, store):
        sub, _r = _sell(member, plan, store, at=timezone.now())
        subscription_cancel(subscription=sub, by=None)

        other, _r = _sell(member, MembershipPlanFactory(), store, "M-2")

        assert other.pk != sub.pk


class TestExpiry:
    def test_expiry_job_expires_once(self, member, plan, store):
        sub, _r = _sell(member, plan, store)
        after = T0 + relativedelta(months=1, days=1)

        assert subscriptions_expire_due(now=after) == 1
        assert subscriptions_expire_due(now=after) == 0

        sub.refresh_from_db()
        assert sub.status == SubscriptionStatus.EXPIRED
        assert sub.ended_at == sub.current_period_end
        assert sub.events.filter(kind=SubscriptionEventKind.EXPIRED).count() == 1

    def test_expiry_job_leaves_running_subscriptions(self, member, plan, store):
        _sell(member, plan, store)

        assert subscriptions_expire_due(now=T0 + dt.timedelta(days=10)) == 0

    def test_perks_stop_at_the_end_even_before_the_job(self, member, plan, store):
        _sell(member, plan, store)
        end = T0 + relativedelta(months=1)

        assert membership_earn_multiplier(member_id=member.pk, at=end) == 1
        assert membership_earn_multiplier(
            member_id=member.pk, at=end - dt.timedelta(seconds=1)
        ) == Decimal("1.50")


class TestMonthlyVoucher:
    def test_one_voucher_per_month(self, member, plan, store):
        sub, _r = _sell(member, plan, store, at=T0)  # March voucher at the sale
        plan.period_months = 3
        plan.save()
        _sell(member, plan, store, "M-2", at=T0 + dt.timedelta(days=1))

        assert membership_vouchers_issue_due(at=T0 + dt.timedelta(days=2)) == 0
        april = dt.datetime(2026, 4, 2, 3, 0, tzinfo=dt.UTC)
        assert membership_vouchers_issue_due(at=april) == 1
        assert membership_vouchers_issue_due(at=april + dt.timedelta(days=1)) == 0

        keys = sorted(Voucher.objects.values_list("idempotency_key", flat=True))
        assert keys == [f"membership:{sub.pk}:2026-03", f"membership:{sub.pk}:2026-04"]

    def test_no_voucher_after_the_end_or_without_a_reward(self, member, store):
        plain = MembershipPlanFactory(monthly_reward=None)
        _sell(member, plain, store)

        assert membership_vouchers_issue_due(at=T0 + dt.timedelta(days=25)) == 0
        assert Voucher.objects.count() == 0

    def test_no_voucher_for_a_cancelled_subscription(self, member, plan, store):
        sub, _r = _sell(member, plan, store, at=timezone.now())
        subscription_cancel(subscription=sub, by=None)

        assert (
            membership_vouchers_issue_due(at=timezone.now() + relativedelta(months=1))
            == 0
        )


class TestReminder:
    def test_reminder_sent_once_per_period_after_commit(
        self, member, plan, store, mailoutbox, django_capture_on_commit_callbacks
    ):
        sub, _r = _sell(member, plan, store)
        near_end = T0 + relativedelta(months=1) - dt.timedelta(days=3)

        with django_capture_on_commit_callbacks(execute=True):
            assert subscriptions_remind_due(now=near_end, days=7) == 1
            assert subscriptions_remind_due(now=near_end, days=7) == 0

        assert [m.to for m in mailoutbox] == [[member.email]]
        assert "Club membership ends on" in mailoutbox[0].body
        sub.refresh_from_db()
        assert sub.reminder_sent_for == sub.current_period_end
        assert sub.events.filter(kind=SubscriptionEventKind.REMINDER).count() == 1

    def test_reminder_goes_by_sms_without_an_email(
        self, store, plan, sms_outbox, django_capture_on_commit_callbacks
    ):
        member = MemberFactory(store=store, email=None)
        _sell(member, plan, store)

        with django_capture_on_commit_callbacks(execute=True):
            subscriptions_remind_due(
                now=T0 + relativedelta(months=1) - dt.timedelta(days=1), days=7
            )

        assert [m["to"] for m in sms_outbox] == [member.phone]

    def test_not_reminded_too_early(self, member, plan, store):
        _sell(member, plan, store)

        assert subscriptions_remind_due(now=T0 + dt.timedelta(days=5), days=7) == 0

    def test_renewal_gets_its_own_reminder(self, member, plan, store):
        _sell(member, plan, store)
        first_end = T0 + relativedelta(months=1)
        subscriptions_remind_due(now=first_end - dt.timedelta(days=2), days=7)
        _sell(member, plan, store, "M-2", at=first_end - dt.timedelta(days=1))

        second_end = first_end + relativedelta(months=1)
        assert (
            subscriptions_remind_due(now=second_end - dt.timedelta(days=2), days=7) == 1
        )

    def test_sender_is_a_setting(
        self,
        member,
        plan,
        store,
        settings,
        monkeypatch,
        django_capture_on_commit_callbacks,
    ):
        sent = []
        monkeypatch.setattr(
            "rewards.tests.memberships.test_services.fake_sender",
            lambda *, subscription: sent.append(subscription.pk),
            raising=False,
        )
        settings.LOYALTY_MEMBERSHIP_REMINDER_SENDER = (
            "rewards.tests.memberships.test_services.fake_sender"
        )
        sub, _r = _sell(member, plan, store)

        with django_capture_on_commit_callbacks(execute=True):
            subscriptions_remind_due(
                now=T0 + relativedelta(months=1) - dt.timedelta(days=1), days=7
            )

        assert sent == [sub.pk]


class TestEarnMultiplier:
    def test_plan_multiplies_the_earning_rate(self, member, plan, store):
        now = timezone.now()
        _sell(member, plan, store, at=now - dt.timedelta(days=1))

        purchase, _r = purchase_record(
            store=store, member=member, receipt_id="P-1", total="100.00"
        )

        assert purchase.points_earned == 150
        assert purchase.points_per_unit == Decimal("1.5000")

    def test_tier_and_plan_multiply(self, member, plan, store):
        gold = TierFactory(name="Gold", rank=1, earn_multiplier=Decimal("1.25"))
        PointsAccount.objects.filter(member=member).update(tier=gold)
        _sell(member, plan, store, at=timezone.now() - dt.timedelta(days=1))

        purchase, _r = purchase_record(
            store=store, member=member, receipt_id="P-1", total="100.00"
        )

        assert purchase.points_earned == 187  # 100 × 1.25 × 1.5 = 187.5, down
        entry = purchase.ledger_entries.get(kind="earn")
        stages = [(i["stage"], i["name"], i["points"]) for i in entry.breakdown]
        assert stages == [
            ("base", "", 100),
            ("tier", "Gold", 25),
            ("membership", plan.name, 62),  # 62.5, the half point lost in rounding
        ]

    def test_no_multiplier_without_an_active_membership(self, member, plan, store):
        purchase, _r = purchase_record(
            store=store, member=member, receipt_id="P-1", total="100.00"
        )

        assert purchase.points_earned == 100

    def test_return_claws_back_at_the_multiplied_rate(self, member, plan, store):
        _sell(member, plan, store, at=timezone.now() - dt.timedelta(days=1))
        purchase, _r = purchase_record(
            store=store, member=member, receipt_id="P-1", total="100.00"
        )

        ret, _r = purchase_return_record(
            purchase=purchase, store=store, receipt_id="R-1", amount="100.00"
        )

        assert ret.points_reversed == 150


class TestGuaranteedTier:
    @pytest.fixture
    def tiers(self):
        return {
            "bronze": TierFactory(name="Bronze", rank=1, threshold=Decimal("0")),
            "silver": TierFactory(
                name="Silver", rank=2, threshold=Decimal("1000"), grace_days=10
            ),
        }

    def test_sale_raises_the_member_to_the_guaranteed_tier(self, member, store, tiers):
        plan = MembershipPlanFactory(guaranteed_tier=tiers["silver"])

        _sell(member, plan, store, at=timezone.now())

        account = PointsAccount.objects.get(member=member)
        assert account.tier == tiers["silver"]
        history = TierHistory.objects.get(member=member)
        assert history.reason == f"Membership {plan.name}"

    def test_guaranteed_tier_kept_while_active(self, member, store, tiers):
        plan = MembershipPlanFactory(guaranteed_tier=tiers["silver"], period_months=3)
        start = timezone.now() - dt.timedelta(days=40)
        _sell(member, plan, store, at=start)

        today = timezone.localdate()
        for days in range(0, 30, 5):
            assert tiers_downgrade_due(today=today + dt.timedelta(days=days)) == 0

        account = PointsAccount.objects.get(member=member)
        assert account.tier == tiers["silver"]
        assert account.tier_lapsed_on is None

    def test_after_expiry_the_usual_grace_applies(self, member, store, tiers):
        plan = MembershipPlanFactory(guaranteed_tier=tiers["silver"])
        start = timezone.now() - dt.timedelta(days=40)
        _sell(member, plan, store, at=start)
        subscriptions_expire_due()
        today = timezone.localdate()

        assert tiers_downgrade_due(today=today) == 0  # grace starts
        account = PointsAccount.objects.get(member=member)
        assert account.tier_lapsed_on == today
        assert tiers_downgrade_due(today=today + dt.timedelta(days=10)) == 1
        account.refresh_from_db()
        assert account.tier == tiers["bronze"]

    def test_a_higher_tier_is_not_lowered_by_a_sale(self, member, store, tiers):
        gold = TierFactory(name="Gold", rank=3, threshold=Decimal("5000"))
        PointsAccount.objects.filter(member=member).update(tier=gold)
        plan = MembershipPlanFactory(guaranteed_tier=tiers["silver"])

        _sell(member, plan, store, at=timezone.now())

        assert PointsAccount.objects.get(member=member).tier == gold


def test_subscription_history_is_append_only(member, plan, store):
    from rewards.models import AppendOnlyError

    sub, _r = _sell(member, plan, store)
    event = sub.events.first()

    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()
    with pytest.raises(AppendOnlyError):
        SubscriptionEvent.objects.update(receipt_id="x")
