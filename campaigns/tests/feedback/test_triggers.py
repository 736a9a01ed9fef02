"""Survey invitations after registration, after a resolved complaint and sent
to a segment: once per member (or complaint) and trigger, however often the
hourly job or the staff action runs, only to members who agreed to messages,
through message_send (so the frequency cap and quiet hours apply)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.utils import timezone

from campaigns.feedback.invites import (
    survey_complaints_due,
    survey_invites_queue_other_due,
    survey_invites_send_members,
    survey_members_due_registration,
    survey_send_to_segment,
)
from campaigns.feedback.services import complaint_file, complaint_status_set
from campaigns.feedback.tasks import survey_invites_send_due
from campaigns.models import Message, SurveyInvitation, SurveyTrigger
from campaigns.tests.factories import segment_of, survey_make
from members.audit import StaffActor
from members.errors import Forbidden
from members.models import StaffAuditEvent
from members.tests.factories import MemberFactory

pytestmark = pytest.mark.django_db


def _consenting(store, *, email="fan@example.com", enrolled_ago=dt.timedelta(0)):
    member = MemberFactory(store=store, email=email)
    member.email_consent = True
    member.enrolled_at = timezone.now() - enrolled_ago
    member.save(update_fields=["email_consent", "enrolled_at"])
    return member


class TestAfterRegistration:
    def test_new_member_is_invited_once_with_a_link(
        self, store, django_capture_on_commit_callbacks
    ):
        survey = survey_make(after_registration=True, delay_hours=24, window_days=3)
        member = _consenting(store, enrolled_ago=dt.timedelta(hours=30))
        with django_capture_on_commit_callbacks(execute=True):
            assert survey_invites_send_due() == 1
        with django_capture_on_commit_callbacks(execute=True):
            assert survey_invites_send_due() == 0
            assert (
                survey_invites_send_members(
                    survey_id=survey.pk,
                    trigger=SurveyTrigger.REGISTRATION,
                    member_ids=[member.pk],
                )
                == 0
            )
        invitation = SurveyInvitation.objects.get()
        assert (invitation.trigger, invitation.member, invitation.purchase) == (
            SurveyTrigger.REGISTRATION,
            member,
            None,
        )
        message = Message.objects.get(member=member)
        assert message.key == f"survey:{survey.pk}:registration:{member.pk}"
        assert message.marketing
        assert len(mail.outbox) == 1
        assert "/survey/" in mail.outbox[0].body

    def test_too_new_too_old_or_without_consent_is_not_due(self, store):
        survey = survey_make(after_registration=True, delay_hours=24, window_days=3)
        _consenting(store, email="a@example.com", enrolled_ago=dt.timedelta(hours=2))
        _consenting(store, email="b@example.com", enrolled_ago=dt.timedelta(days=9))
        silent = MemberFactory(store=store)
        silent.enrolled_at = timezone.now() - dt.timedelta(hours=30)
        silent.save(update_fields=["enrolled_at"])
        assert survey_members_due_registration(survey=survey) == []
        assert survey_invites_queue_other_due() == 0

    def test_a_survey_not_asked_after_registration_invites_nobody(self, store):
        survey_make(after_registration=False, delay_hours=24)
        _consenting(store, enrolled_ago=dt.timedelta(hours=30))
        assert survey_invites_queue_other_due() == 0
        assert not SurveyInvitation.objects.exists()


class TestAfterComplaint:
    def test_resolved_complaint_is_invited_once(
        self, store, manager, django_capture_on_commit_callbacks
    ):
        survey = survey_make(after_complaint=True, delay_hours=1, window_days=3)
        member = _consenting(store)
        complaint = complaint_file(member=member, topic="service", body="Slow")
        open_one = complaint_file(member=member, topic="app", body="Logs me out")
        complaint_status_set(
            complaint_id=complaint.pk, actor=StaffActor(user=manager), status="resolved"
        )
        type(complaint).objects.filter(pk=complaint.pk).update(
            resolved_at=timezone.now() - dt.timedelta(hours=2)
        )
        assert survey_complaints_due(survey=survey) == [complaint.pk]
        with django_capture_on_commit_callbacks(execute=True):
            assert survey_invites_queue_other_due() == 1
        assert survey_invites_queue_other_due() == 0
        invitation = SurveyInvitation.objects.get()
        assert (invitation.trigger, invitation.complaint_id) == (
            SurveyTrigger.COMPLAINT,
            complaint.pk,
        )
        assert not SurveyInvitation.objects.filter(complaint=open_one).exists()
        assert Message.objects.get().key == (
            f"survey:{survey.pk}:complaint:{complaint.pk}"
        )


class TestSentToSegment:
    def test_segment_members_with_consent_get_it_once_audited(
        self, store, marketer, django_capture_on_commit_callbacks
    ):
        survey = survey_make()
        fan = _consenting(store)
        silent = MemberFactory(store=store)
        segment = segment_of([fan, silent])
        actor = StaffActor(user=marketer)
        with django_capture_on_commit_callbacks(execute=True):
            assert (
                survey_send_to_segment(survey=survey, segment=segment, actor=actor) == 1
            )
        with django_capture_on_commit_callbacks(execute=True):
            assert (
                survey_send_to_segment(survey=survey, segment=segment, actor=actor) == 0
            )
        assert list(SurveyInvitation.objects.values_list("member", "trigger")) == [
            (fan.pk, SurveyTrigger.CAMPAIGN)
        ]
        assert Message.objects.filter(member=fan, kind="survey_invite").count() == 1
        assert (
            StaffAuditEvent.objects.filter(action="survey.sent_to_segment").count() == 2
        )

    def test_cashier_may_not_send_a_survey(self, store, cashier):
        segment = segment_of([_consenting(store)])
        with pytest.raises(Forbidden, match="You may not send surveys."):
            survey_send_to_segment(
                survey=survey_make(), segment=segment, actor=StaffActor(user=cashier)
            )
        assert not SurveyInvitation.objects.exists()
