"""The nightly renewal task and its place in the beat schedule."""

import datetime as dt

import pytest
from django.conf import settings as django_settings
from django.utils import timezone

from rewards import tasks
from rewards.models import Payment, Subscription
from rewards.services import subscription_sell

pytestmark = pytest.mark.django_db


def test_task_renews_due_memberships_once(settings, member, plan, store):
    settings.PAYMENT_PROVIDER = "test"
    sub, _r = subscription_sell(member=member, plan=plan, store=store, receipt_id="T-1")
    Subscription.objects.filter(pk=sub.pk).update(
        auto_renew=True, current_period_end=timezone.now() + dt.timedelta(days=1)
    )

    assert tasks.payments_renew_due() == 1
    assert tasks.payments_renew_due() == 0
    assert Payment.objects.get().subscription_id == sub.pk


def test_task_is_scheduled_nightly():
    entry = django_settings.CELERY_BEAT_SCHEDULE["membership-renewals-nightly"]
    assert entry["task"] == "rewards.tasks.payments_renew_due"
