"""The nightly membership tasks, called directly (the worker setup is in rewards/tests/tasks/test_worker.py)."""

import datetime as dt

import pytest
from django.conf import settings
from django.utils import timezone

from rewards.models import SubscriptionStatus, Voucher
from rewards.services import subscription_sell
from rewards.tasks import (
    membership_vouchers_issue_due,
    subscriptions_expire_due,
    subscriptions_remind_due,
)
from rewards.tests.factories import MembershipPlanFactory, RewardFactory

pytestmark = pytest.mark.django_db


def test_expiry_task_expires_once(member, store):
    plan = MembershipPlanFactory()
    sub, _r = subscription_sell(
        member=member,
        plan=plan,
        store=store,
        receipt_id="M-1",
        at=timezone.now() - dt.timedelta(days=40),
    )

    assert subscriptions_expire_due.apply().get() == 1
    assert subscriptions_expire_due.apply().get() == 0
    sub.refresh_from_db()
    assert sub.status == SubscriptionStatus.EXPIRED


def test_voucher_task_issues_nothing_twice(member, store):
    plan = MembershipPlanFactory(monthly_reward=RewardFactory())
    subscription_sell(member=member, plan=plan, store=store, receipt_id="M-1")

    assert membership_vouchers_issue_due.apply().get() == 0  # given at the sale
    assert Voucher.objects.count() == 1


def test_reminder_task_reminds_once(member, store, mailoutbox):
    plan = MembershipPlanFactory()
    subscription_sell(
        member=member,
        plan=plan,
        store=store,
        receipt_id="M-1",
        at=timezone.now() - dt.timedelta(days=27),
    )

    assert subscriptions_remind_due.apply().get() == 1
    assert subscriptions_remind_due.apply().get() == 0


@pytest.mark.parametrize(
    ("key", "task"),
    [
        ("memberships-expire-nightly", "rewards.tasks.subscriptions_expire_due"),
        ("membership-vouchers-nightly", "rewards.tasks.membership_vouchers_issue_due"),
        ("membership-reminders-daily", "rewards.tasks.subscriptions_remind_due"),
    ],
)
def test_membership_jobs_are_in_the_beat_schedule(key, task):
    assert settings.CELERY_BEAT_SCHEDULE[key]["task"] == task
