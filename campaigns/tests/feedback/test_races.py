"""Concurrent staff on one complaint, concurrent invitation runs and first
answers: goodwill is granted once, a purchase (or a new member) is invited
once, a one-question survey saves its question once. PostgreSQL only (SQLite
serializes every writer, so these would prove nothing there)."""

from __future__ import annotations

import datetime as dt

import pytest

from campaigns.feedback.services import complaint_file, complaint_resolve
from campaigns.feedback.surveys import survey_invites_send
from campaigns.models import Complaint, Message, SurveyInvitation
from campaigns.tests.factories import purchase_make, survey_make
from members.audit import StaffActor
from members.tests.factories import MemberFactory
from rewards.models import LedgerEntry, LedgerKind
from rewards.tests.ledger.test_races import assert_ledger_exact, run_together

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

THREADS = 8


def test_concurrent_resolves_grant_goodwill_once(store, manager):
    member = MemberFactory(store=store)
    complaint = complaint_file(member=member, topic="service", body="x")
    actor = StaffActor(user=manager)

    results = run_together(
        THREADS,
        lambda _i: complaint_resolve(
            complaint_id=complaint.pk, actor=actor, goodwill_points=70
        ),
    )
    assert all(isinstance(r, Complaint) for r in results), results
    entries = LedgerEntry.objects.filter(account__member=member, kind=LedgerKind.ADJUST)
    assert [e.points for e in entries] == [70]
    complaint.refresh_from_db()
    assert complaint.goodwill_adjustment.ledger_entry == entries.get()
    assert assert_ledger_exact(member) == 70


def test_concurrent_invitation_chunks_invite_once(store):
    member = MemberFactory(store=store, email="race@example.com")
    member.email_consent = True
    member.save(update_fields=["email_consent"])
    survey = survey_make(post_purchase=True, delay_hours=1)
    ids = [
        purchase_make(member=member, store=store, ago=dt.timedelta(hours=2)).pk
        for _ in range(5)
    ]
    results = run_together(
        THREADS,
        lambda _i: survey_invites_send(survey_id=survey.pk, purchase_ids=ids),
    )
    assert sum(results) == 5, results
    assert SurveyInvitation.objects.count() == 5
    assert Message.objects.filter(kind="survey_invite").count() == 5


def test_concurrent_registration_runs_invite_each_member_once(store):
    from campaigns.feedback.invites import survey_invites_send_members
    from campaigns.models import SurveyTrigger

    members = []
    for n in range(4):
        member = MemberFactory(store=store, email=f"reg{n}@example.com")
        member.email_consent = True
        member.save(update_fields=["email_consent"])
        members.append(member.pk)
    survey = survey_make(after_registration=True, delay_hours=1)
    results = run_together(
        THREADS,
        lambda _i: survey_invites_send_members(
            survey_id=survey.pk,
            trigger=SurveyTrigger.REGISTRATION,
            member_ids=members,
        ),
    )
    assert sum(results) == 4, results
    assert SurveyInvitation.objects.filter(trigger="registration").count() == 4
    assert Message.objects.filter(kind="survey_invite").count() == 4


def test_concurrent_first_answers_save_the_question_once(store):
    from campaigns.feedback.surveys import survey_response_submit
    from campaigns.models import SurveyAnswer, SurveyQuestion

    survey = survey_make()  # no question rows yet
    members = [MemberFactory(store=store) for _ in range(THREADS)]
    results = run_together(
        THREADS,
        lambda i: survey_response_submit(
            survey=survey, member=members[i], purchase=None, score=9
        ),
    )
    assert all(r.score == 9 for r in results), results
    question = SurveyQuestion.objects.get(survey=survey)
    assert SurveyAnswer.objects.filter(question=question).count() == THREADS
