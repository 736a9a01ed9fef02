"""The hourly survey invitation task: due purchases are invited once, ever."""

from __future__ import annotations

import datetime as dt

import pytest
from django.conf import settings
from django.core import mail

from campaigns.feedback.tasks import survey_invites_send, survey_invites_send_due
from campaigns.models import Message, SurveyInvitation
from campaigns.tests.factories import purchase_make, survey_make
from members.tests.factories import MemberFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def due_purchase(store):
    member = MemberFactory(store=store, email="fan@example.com")
    member.email_consent = True
    member.save(update_fields=["email_consent"])
    return purchase_make(member=member, store=store, ago=dt.timedelta(hours=30))


def test_task_run_twice_invites_once(due_purchase, django_capture_on_commit_callbacks):
    survey = survey_make(post_purchase=True, delay_hours=24)
    with django_capture_on_commit_callbacks(execute=True):
        assert survey_invites_send_due.delay().get() == 1
    with django_capture_on_commit_callbacks(execute=True):
        assert survey_invites_send_due.delay().get() == 0
        # A chunk redelivered by the broker finds the purchase invited.
        assert survey_invites_send.delay(survey.pk, [due_purchase.pk]).get() == 0
    assert SurveyInvitation.objects.count() == 1
    assert (
        Message.objects.filter(key=f"survey:{survey.pk}:{due_purchase.pk}").count() == 1
    )
    assert len(mail.outbox) == 1


def test_task_is_quiet_when_the_survey_is_gone(due_purchase):
    assert survey_invites_send.delay(424242, [due_purchase.pk]).get() == 0


def test_task_is_on_the_beat_schedule():
    tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "campaigns.tasks_feedback.survey_invites_send_due" in tasks
    assert (
        survey_invites_send_due.name
        == "campaigns.tasks_feedback.survey_invites_send_due"
    )
