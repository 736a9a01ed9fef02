"""The feedback services: complaints (filing, thread, status, assignment,
goodwill) and survey answers and invitations."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.utils import timezone

from campaigns.feedback.services import (
    complaint_assign,
    complaint_customer_reply,
    complaint_file,
    complaint_resolve,
    complaint_staff_reply,
    complaint_status_set,
)
from campaigns.feedback.surveys import (
    survey_invites_queue_due,
    survey_invites_send,
    survey_response_submit,
)
from campaigns.models import (
    Complaint,
    ComplaintSender,
    ComplaintSource,
    ComplaintStatus,
    ComplaintTopic,
    Message,
    SurveyInvitation,
    SurveyKind,
    SurveyResponse,
)
from campaigns.models.delivery import DeliverySettings
from campaigns.tests.factories import purchase_make, survey_make
from members.audit import StaffActor
from members.errors import Conflict, Forbidden, InvalidInput, NotFound
from members.models import StaffAuditEvent
from members.tests.factories import MemberFactory
from rewards.models import AdjustmentStatus, LedgerEntry, LedgerKind
from rewards.selectors.controls import staff_controls_get
from rewards.selectors.ledger import member_balance_get

pytestmark = pytest.mark.django_db


@pytest.fixture
def complaint(member):
    return complaint_file(
        member=member, topic=ComplaintTopic.SERVICE, body="The queue was long."
    )


def _actor(user):
    return StaffActor(user=user, ip="10.0.0.1")


# --- filing ---------------------------------------------------------------------------


class TestComplaintFile:
    def test_portal_complaint_opens_new_with_the_customers_message(self, member):
        complaint = complaint_file(
            member=member, topic=ComplaintTopic.PRODUCT, body="  Stale bread  "
        )
        assert complaint.status == ComplaintStatus.NEW
        assert complaint.source == ComplaintSource.PORTAL
        [message] = complaint.messages.all()
        assert (message.sender, message.body) == (
            ComplaintSender.CUSTOMER,
            "Stale bread",
        )
        assert not StaffAuditEvent.objects.filter(object_id=str(complaint.pk)).exists()

    def test_purchase_takes_its_store(self, member, store):
        purchase = purchase_make(member=member, store=store)
        complaint = complaint_file(
            member=member, topic=ComplaintTopic.PRODUCT, body="x", purchase=purchase
        )
        assert complaint.store == store

    def test_refuses_another_members_purchase(self, member, store):
        other = MemberFactory(store=store)
        purchase = purchase_make(member=other, store=store)
        with pytest.raises(InvalidInput, match="your own purchases"):
            complaint_file(
                member=member, topic=ComplaintTopic.PRODUCT, body="x", purchase=purchase
            )
        assert not Complaint.objects.exists()

    def test_refuses_unknown_topic_and_empty_message(self, member):
        with pytest.raises(InvalidInput, match="Choose a topic"):
            complaint_file(member=member, topic="weather", body="x")
        with pytest.raises(InvalidInput, match="Write your message"):
            complaint_file(member=member, topic=ComplaintTopic.OTHER, body="   ")

    def test_cashier_logs_a_counter_complaint_audited(self, member, cashier):
        complaint = complaint_file(
            member=member,
            topic=ComplaintTopic.SERVICE,
            body="Rude at till 2",
            actor=_actor(cashier),
        )
        assert complaint.source == ComplaintSource.COUNTER
        assert complaint.created_by == cashier
        assert complaint.store == cashier.store
        event = StaffAuditEvent.objects.get(object_id=str(complaint.pk))
        assert (event.action, event.actor, event.member_id) == (
            "complaint.logged",
            cashier,
            member.pk,
        )

    def test_marketer_cannot_log_a_counter_complaint(self, member, marketer):
        with pytest.raises(Forbidden):
            complaint_file(
                member=member, topic="service", body="x", actor=_actor(marketer)
            )


# --- replies ---------------------------------------------------------------------------


class TestStaffReply:
    def test_reply_sends_exactly_one_message_and_waits_for_the_customer(
        self, complaint, manager, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=True):
            reply = complaint_staff_reply(
                complaint_id=complaint.pk, actor=_actor(manager), body="Sorry!"
            )
        complaint.refresh_from_db()
        assert complaint.status == ComplaintStatus.WAITING
        assert reply.sender == ComplaintSender.STAFF
        message = Message.objects.get(member=complaint.member)
        assert message.key == f"complaint-reply:{reply.pk}"
        assert (message.kind, message.marketing) == ("complaint_reply", False)
        assert reply.sent_message == message
        assert len(mail.outbox) == 1
        assert "Sorry!" in mail.outbox[0].body
        assert f"/feedback/{complaint.pk}/" in mail.outbox[0].body

    def test_two_replies_send_two_messages(
        self, complaint, manager, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=True):
            complaint_staff_reply(
                complaint_id=complaint.pk, actor=_actor(manager), body="A"
            )
            complaint_staff_reply(
                complaint_id=complaint.pk, actor=_actor(manager), body="B"
            )
        assert Message.objects.filter(kind="complaint_reply").count() == 2
        assert len(mail.outbox) == 2

    def test_member_without_email_gets_an_sms(
        self, store, manager, sms_outbox, django_capture_on_commit_callbacks
    ):
        member = MemberFactory(store=store, email=None)
        complaint = complaint_file(member=member, topic="service", body="x")
        with django_capture_on_commit_callbacks(execute=True):
            complaint_staff_reply(
                complaint_id=complaint.pk, actor=_actor(manager), body="We called."
            )
        assert len(sms_outbox) == 1
        assert "We called." in sms_outbox[0]["text"]
        assert mail.outbox == []

    def test_reply_is_audited(self, complaint, manager):
        reply = complaint_staff_reply(
            complaint_id=complaint.pk, actor=_actor(manager), body="Hi"
        )
        event = StaffAuditEvent.objects.get(action="complaint.replied")
        assert event.actor == manager
        assert event.member_id == complaint.member_id
        assert event.details["reply"] == reply.pk
        assert event.ip == "10.0.0.1"

    def test_cashier_cannot_reply(self, complaint, cashier):
        with pytest.raises(Forbidden):
            complaint_staff_reply(
                complaint_id=complaint.pk, actor=_actor(cashier), body="Hi"
            )
        assert complaint.messages.count() == 1

    def test_empty_reply_refused(self, complaint, manager):
        with pytest.raises(InvalidInput, match="Write your message"):
            complaint_staff_reply(
                complaint_id=complaint.pk, actor=_actor(manager), body=" "
            )

    def test_closed_complaint_takes_no_reply(self, complaint, manager):
        complaint_status_set(
            complaint_id=complaint.pk, actor=_actor(manager), status="closed"
        )
        with pytest.raises(Conflict, match="closed"):
            complaint_staff_reply(
                complaint_id=complaint.pk, actor=_actor(manager), body="Hi"
            )


class TestCustomerReply:
    def test_answer_puts_a_waiting_complaint_back_in_progress(self, complaint, manager):
        complaint_staff_reply(
            complaint_id=complaint.pk, actor=_actor(manager), body="?"
        )
        complaint_customer_reply(
            member=complaint.member, complaint_id=complaint.pk, body="Here it is"
        )
        complaint.refresh_from_db()
        assert complaint.status == ComplaintStatus.IN_PROGRESS
        assert [m.sender for m in complaint.messages.all()] == [
            "customer",
            "staff",
            "customer",
        ]

    def test_another_member_cannot_answer(self, complaint, store):
        other = MemberFactory(store=store)
        with pytest.raises(NotFound):
            complaint_customer_reply(member=other, complaint_id=complaint.pk, body="x")
        assert complaint.messages.count() == 1

    def test_closed_conversation_refuses_an_answer(self, complaint, manager):
        complaint_status_set(
            complaint_id=complaint.pk, actor=_actor(manager), status="closed"
        )
        with pytest.raises(Conflict, match="closed"):
            complaint_customer_reply(
                member=complaint.member, complaint_id=complaint.pk, body="x"
            )


# --- status and assignment --------------------------------------------------------------


class TestStatus:
    @pytest.mark.parametrize(
        ("path", "final"),
        [
            (["in_progress", "waiting", "resolved", "closed"], "closed"),
            (["resolved", "in_progress"], "in_progress"),
            (["waiting", "in_progress", "resolved"], "resolved"),
        ],
    )
    def test_allowed_transitions(self, complaint, manager, path, final):
        for status in path:
            complaint_status_set(
                complaint_id=complaint.pk, actor=_actor(manager), status=status
            )
        complaint.refresh_from_db()
        assert complaint.status == final
        assert StaffAuditEvent.objects.filter(action="complaint.status").count() == len(
            path
        )

    def test_resolved_time_is_set_and_cleared_on_reopening(self, complaint, manager):
        actor = _actor(manager)
        complaint_status_set(complaint_id=complaint.pk, actor=actor, status="resolved")
        complaint.refresh_from_db()
        assert complaint.resolved_at is not None
        complaint_status_set(
            complaint_id=complaint.pk, actor=actor, status="in_progress"
        )
        complaint.refresh_from_db()
        assert complaint.resolved_at is None

    @pytest.mark.parametrize(
        ("before", "after"),
        [("closed", "in_progress"), ("closed", "resolved"), ("in_progress", "new")],
    )
    def test_refused_transitions(self, complaint, manager, before, after):
        complaint_status_set(
            complaint_id=complaint.pk, actor=_actor(manager), status=before
        )
        with pytest.raises(Conflict, match="cannot become"):
            complaint_status_set(
                complaint_id=complaint.pk, actor=_actor(manager), status=after
            )
        complaint.refresh_from_db()
        assert complaint.status == before

    def test_same_status_is_a_quiet_no_op(self, complaint, manager):
        complaint_status_set(
            complaint_id=complaint.pk, actor=_actor(manager), status="new"
        )
        assert not StaffAuditEvent.objects.filter(action="complaint.status").exists()

    def test_unknown_status_and_complaint(self, complaint, manager):
        with pytest.raises(InvalidInput):
            complaint_status_set(
                complaint_id=complaint.pk, actor=_actor(manager), status="lost"
            )
        with pytest.raises(NotFound):
            complaint_status_set(
                complaint_id=complaint.pk + 99, actor=_actor(manager), status="closed"
            )


class TestAssign:
    def test_assign_to_me_takes_a_new_complaint_in_progress(self, complaint, marketer):
        complaint_assign(
            complaint_id=complaint.pk, actor=_actor(marketer), assignee=marketer
        )
        complaint.refresh_from_db()
        assert (complaint.assignee, complaint.status) == (marketer, "in_progress")
        event = StaffAuditEvent.objects.get(action="complaint.assigned")
        assert event.details == {"before": None, "after": marketer.pk}

    def test_cashier_cannot_be_assigned(self, complaint, manager, cashier):
        with pytest.raises(InvalidInput, match="may not work on complaints"):
            complaint_assign(
                complaint_id=complaint.pk, actor=_actor(manager), assignee=cashier
            )


# --- goodwill ---------------------------------------------------------------------------


class TestResolveWithGoodwill:
    def test_goodwill_is_granted_once_with_a_reason_naming_the_complaint(
        self, complaint, manager
    ):
        actor = _actor(manager)
        complaint_resolve(complaint_id=complaint.pk, actor=actor, goodwill_points=100)
        complaint_resolve(complaint_id=complaint.pk, actor=actor, goodwill_points=100)
        complaint_status_set(
            complaint_id=complaint.pk, actor=actor, status="in_progress"
        )
        complaint_resolve(complaint_id=complaint.pk, actor=actor, goodwill_points=50)
        [entry] = LedgerEntry.objects.filter(
            account__member=complaint.member, kind=LedgerKind.ADJUST
        )
        assert entry.points == 100
        assert entry.reason == f"Goodwill for complaint #{complaint.pk}"
        complaint.refresh_from_db()
        assert complaint.status == ComplaintStatus.RESOLVED
        assert complaint.goodwill_points == 100
        assert complaint.goodwill_adjustment.status == AdjustmentStatus.APPROVED
        assert member_balance_get(member_id=complaint.member_id) == 100

    def test_goodwill_above_the_threshold_waits_for_a_manager(self, complaint, manager):
        controls = staff_controls_get()
        controls.adjustment_approval_threshold = 50
        controls.save()
        resolved = complaint_resolve(
            complaint_id=complaint.pk, actor=_actor(manager), goodwill_points=200
        )
        assert resolved.status == ComplaintStatus.RESOLVED
        assert resolved.goodwill_adjustment.status == AdjustmentStatus.PENDING
        assert not LedgerEntry.objects.filter(kind=LedgerKind.ADJUST).exists()

    def test_goodwill_needs_the_right_to_adjust_points(self, complaint, marketer):
        with pytest.raises(Forbidden, match="may not adjust points"):
            complaint_resolve(
                complaint_id=complaint.pk, actor=_actor(marketer), goodwill_points=10
            )
        complaint.refresh_from_db()
        assert complaint.status == ComplaintStatus.NEW
        # Without points a Marketer may resolve it.
        complaint_resolve(complaint_id=complaint.pk, actor=_actor(marketer))
        complaint.refresh_from_db()
        assert complaint.status == ComplaintStatus.RESOLVED

    def test_resolving_is_audited_with_the_adjustment(self, complaint, manager):
        complaint_resolve(
            complaint_id=complaint.pk, actor=_actor(manager), goodwill_points=30
        )
        event = StaffAuditEvent.objects.get(action="complaint.status")
        assert event.details["after"] == "resolved"
        assert event.details["goodwill_points"] == 30
        assert StaffAuditEvent.objects.filter(action="adjustment.applied").count() == 1

    @pytest.mark.parametrize("points", [-5, "lots", 10**9])
    def test_bad_goodwill_refused(self, complaint, manager, points):
        with pytest.raises(InvalidInput, match="whole number"):
            complaint_resolve(
                complaint_id=complaint.pk, actor=_actor(manager), goodwill_points=points
            )


# --- surveys ----------------------------------------------------------------------------


class TestSurveyResponse:
    def test_answer_once_per_purchase(self, member, store):
        survey = survey_make()
        purchase = purchase_make(member=member, store=store)
        response = survey_response_submit(
            survey=survey, member=member, purchase=purchase, score="9", comment=" ok "
        )
        assert (response.score, response.comment, response.store) == (9, "ok", store)
        with pytest.raises(Conflict, match="already answered"):
            survey_response_submit(
                survey=survey, member=member, purchase=purchase, score=3
            )
        assert SurveyResponse.objects.count() == 1

    @pytest.mark.parametrize(
        ("kind", "score"),
        [
            (SurveyKind.NPS, 11),
            (SurveyKind.NPS, -1),
            (SurveyKind.SATISFACTION, 0),
            (SurveyKind.SATISFACTION, 6),
            (SurveyKind.NPS, "x"),
        ],
    )
    def test_score_out_of_range_refused(self, member, kind, score):
        survey = survey_make(kind=kind)
        with pytest.raises(InvalidInput, match="Choose a score"):
            survey_response_submit(
                survey=survey, member=member, purchase=None, score=score
            )

    def test_inactive_survey_refused(self, member):
        survey = survey_make(active=False)
        with pytest.raises(InvalidInput, match="closed"):
            survey_response_submit(survey=survey, member=member, purchase=None, score=5)


class TestSurveyInvites:
    @pytest.fixture
    def consenting(self, store):
        member = MemberFactory(store=store, email="fan@example.com")
        member.email_consent = True
        member.save(update_fields=["email_consent"])
        return member

    def test_due_purchase_is_invited_once_with_a_signed_link(
        self, consenting, store, django_capture_on_commit_callbacks
    ):
        survey = survey_make(post_purchase=True, delay_hours=24)
        purchase = purchase_make(
            member=consenting, store=store, ago=dt.timedelta(hours=30)
        )
        with django_capture_on_commit_callbacks(execute=True):
            assert survey_invites_queue_due() == 1
        with django_capture_on_commit_callbacks(execute=True):
            assert survey_invites_queue_due() == 0
            assert (
                survey_invites_send(survey_id=survey.pk, purchase_ids=[purchase.pk])
                == 0
            )
        message = Message.objects.get(member=consenting)
        assert message.key == f"survey:{survey.pk}:{purchase.pk}"
        assert (message.kind, message.marketing) == ("survey_invite", True)
        assert len(mail.outbox) == 1
        assert "/survey/" in mail.outbox[0].body
        assert SurveyInvitation.objects.get().message == message

    def test_not_due_too_old_or_without_consent_is_not_invited(self, consenting, store):
        survey = survey_make(post_purchase=True, delay_hours=24, window_days=3)
        purchase_make(member=consenting, store=store, ago=dt.timedelta(hours=2))
        purchase_make(member=consenting, store=store, ago=dt.timedelta(days=5))
        no_consent = MemberFactory(store=store)
        purchase_make(member=no_consent, store=store, ago=dt.timedelta(hours=30))
        assert survey_invites_queue_due() == 0
        assert not SurveyInvitation.objects.filter(survey=survey).exists()
        assert not Message.objects.exists()

    def test_sms_consent_only_gets_an_sms(
        self, store, sms_outbox, django_capture_on_commit_callbacks
    ):
        # An invitation is marketing: at night in Kyiv quiet hours would hold it.
        DeliverySettings.objects.update_or_create(
            pk=1, defaults={"quiet_start": dt.time(0), "quiet_end": dt.time(0)}
        )
        survey_make(post_purchase=True, delay_hours=1)
        member = MemberFactory(store=store, email=None)
        member.sms_consent = True
        member.save(update_fields=["sms_consent"])
        purchase_make(member=member, store=store, ago=dt.timedelta(hours=2))
        with django_capture_on_commit_callbacks(execute=True):
            assert survey_invites_queue_due() == 1
        assert len(sms_outbox) == 1
        assert "/survey/" in sms_outbox[0]["text"]

    def test_due_purchases_are_fanned_out_in_chunks(
        self, consenting, store, django_assert_max_num_queries
    ):
        survey_make(post_purchase=True, delay_hours=1)
        for _ in range(5):
            purchase_make(member=consenting, store=store, ago=dt.timedelta(hours=2))
        assert survey_invites_queue_due(chunk=2) == 5
        assert SurveyInvitation.objects.count() == 5
        assert Message.objects.filter(kind="survey_invite").count() == 5

    def test_finding_due_purchases_is_one_query(
        self, consenting, store, django_assert_num_queries
    ):
        from campaigns.feedback.selectors import survey_purchases_due

        survey = survey_make(post_purchase=True, delay_hours=1)
        for _ in range(3):
            purchase_make(member=consenting, store=store, ago=dt.timedelta(hours=2))
        with django_assert_num_queries(1):
            assert len(survey_purchases_due(survey=survey, now=timezone.now())) == 3

    def test_switched_off_survey_invites_nobody(self, consenting, store):
        survey = survey_make(post_purchase=True, delay_hours=1, active=False)
        purchase = purchase_make(
            member=consenting, store=store, ago=dt.timedelta(hours=2)
        )
        assert survey_invites_queue_due() == 0
        assert survey_invites_send(survey_id=survey.pk, purchase_ids=[purchase.pk]) == 0
