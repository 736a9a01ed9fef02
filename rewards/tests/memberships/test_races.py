"""Concurrent membership sales: PostgreSQL only (row locks), threads released
together on a barrier, each on its own connection, as till retries would."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from members.errors import Conflict
from members.tests.factories import MemberFactory, StoreFactory
from rewards.models import Subscription, SubscriptionEvent, Voucher
from rewards.services import (
    membership_vouchers_issue_due,
    subscription_sell,
    subscriptions_expire_due,
)
from rewards.tests.factories import MembershipPlanFactory, RewardFactory
from rewards.tests.ledger.test_races import THREADS, run_together

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def store(db):
    return StoreFactory(code="race", name="Race Street")


@pytest.fixture
def plan(db):
    return MembershipPlanFactory(name="Club", monthly_reward=RewardFactory())


def test_same_receipt_sold_by_many_threads_makes_one_subscription(store, plan):
    member = MemberFactory(store=store)

    results = run_together(
        THREADS,
        lambda i: subscription_sell(
            member=member, plan=plan, store=store, receipt_id="M-1"
        ),
    )

    assert all(isinstance(r, tuple) for r in results), results
    assert sum(1 for _sub, replayed in results if not replayed) == 1
    assert len({sub.pk for sub, _r in results}) == 1
    assert Subscription.objects.count() == 1
    assert SubscriptionEvent.objects.exclude(receipt_id="").count() == 1
    assert Voucher.objects.count() == 1


def test_different_receipts_at_once_renew_one_subscription(store, plan):
    member = MemberFactory(store=store)

    results = run_together(
        8,
        lambda i: subscription_sell(
            member=member, plan=plan, store=store, receipt_id=f"M-{i}"
        ),
    )

    assert all(isinstance(r, tuple) for r in results), results
    assert Subscription.objects.count() == 1
    sub = Subscription.objects.get()
    assert SubscriptionEvent.objects.exclude(receipt_id="").count() == 8
    # 8 sales of one month each: the end moved 8 months from the first sale.
    months = (sub.current_period_end.year - sub.started_at.year) * 12 + (
        sub.current_period_end.month - sub.started_at.month
    )
    assert months == 8


def test_two_plans_at_once_leave_one_active(store, plan):
    member = MemberFactory(store=store)
    other = MembershipPlanFactory(name="Family")
    plans = [plan, other]

    results = run_together(
        2,
        lambda i: subscription_sell(
            member=member, plan=plans[i], store=store, receipt_id=f"P-{i}"
        ),
    )

    assert sorted(type(r).__name__ for r in results) == ["Conflict", "tuple"]
    assert isinstance(next(r for r in results if not isinstance(r, tuple)), Conflict)
    assert Subscription.objects.count() == 1


def test_nightly_jobs_run_twice_at_once_act_once(store):
    plan = MembershipPlanFactory(name="Club", monthly_reward=None)
    members = [MemberFactory(store=store) for _i in range(5)]
    past = timezone.now() - dt.timedelta(days=45)
    for i, member in enumerate(members):
        subscription_sell(
            member=member,
            plan=plan,
            store=store,
            receipt_id=f"S-{i}",
            at=past if i % 2 else timezone.now() - dt.timedelta(days=1),
        )
    plan.monthly_reward = RewardFactory()  # the perk starts after the sales
    plan.save()

    expired = run_together(2, lambda i: subscriptions_expire_due())
    issued = run_together(2, lambda i: membership_vouchers_issue_due())

    assert sum(expired) == 2, expired
    assert sum(issued) == 3, issued
    assert Voucher.objects.count() == 3
