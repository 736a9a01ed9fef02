"""The nightly stamp card expiry task, called directly (the worker setup is in rewards/tests/tasks/test_worker.py)."""

import datetime as dt

import pytest
from django.conf import settings
from django.utils import timezone

from rewards.models import StampCard, StampCardStatus
from rewards.services import purchase_record
from rewards.tasks import stamp_cards_expire_due
from rewards.tests.factories import StampProgramFactory

pytestmark = pytest.mark.django_db


def test_nightly_expiry_task_closes_cards_past_their_date_once(member, store):
    StampProgramFactory(card_valid_days=7)
    long_ago = timezone.now() - dt.timedelta(days=8)
    purchase_record(
        store=store,
        member=member,
        receipt_id="r1",
        total="10.00",
        occurred_at=long_ago,
        recorded_at=long_ago,
    )

    assert stamp_cards_expire_due.apply().get() == 1
    assert stamp_cards_expire_due.apply().get() == 0

    card = StampCard.objects.get()
    assert (card.status, card.stamps) == (StampCardStatus.EXPIRED, 1)


def test_nightly_stamp_card_expiry_is_in_the_beat_schedule():
    entry = settings.CELERY_BEAT_SCHEDULE["stamp-cards-expire-nightly"]
    assert entry["task"] == "rewards.tasks.stamp_cards_expire_due"
