"""The nightly tier downgrade task, called directly (the worker setup is in rewards/tests/tasks/test_worker.py)."""

import datetime as dt
from decimal import Decimal

import pytest
from django.conf import settings
from django.utils import timezone

from rewards.models import PointsAccount, TierHistory
from rewards.services import purchase_record
from rewards.tasks import tiers_downgrade_due
from rewards.tests.factories import TierFactory

pytestmark = pytest.mark.django_db


def test_nightly_downgrade_task_moves_lapsed_members_once(member, store):
    bronze = TierFactory(name="Bronze", rank=1)
    TierFactory(name="Silver", rank=2, threshold=Decimal("1000"), grace_days=0)
    long_ago = timezone.now() - dt.timedelta(days=400)
    purchase_record(
        store=store,
        member=member,
        receipt_id="r1",
        total="1000.00",
        occurred_at=long_ago,
        recorded_at=long_ago,
    )
    assert PointsAccount.objects.get(member=member).tier.name == "Silver"

    assert tiers_downgrade_due.apply().get() == 1
    assert tiers_downgrade_due.apply().get() == 0

    assert PointsAccount.objects.get(member=member).tier == bronze
    assert TierHistory.objects.filter(kind=TierHistory.Kind.DOWN).count() == 1


def test_nightly_downgrade_is_in_the_beat_schedule():
    entry = settings.CELERY_BEAT_SCHEDULE["tiers-downgrade-nightly"]
    assert entry["task"] == "rewards.tasks.tiers_downgrade_due"
