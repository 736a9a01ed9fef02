"""Member 360 shows complaints (filed, messages, status changes), survey
answers and event sign-ups and check-ins, each source in one query."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from analytics.selectors import member360, timeline_campaigns
from campaigns.events.checkin import event_checkin
from campaigns.events.services import event_rsvp
from campaigns.feedback.services import (
    complaint_file,
    complaint_staff_reply,
    complaint_status_set,
)
from campaigns.models import ComplaintStatus, EventRsvp, RsvpStatus, SurveyKind
from campaigns.tests.events.test_services import make_event
from campaigns.tests.factories import response_make, survey_make
from members.audit import StaffActor

pytestmark = pytest.mark.django_db

SOURCES = [
    timeline_campaigns.complaints_source,
    timeline_campaigns.complaint_messages_source,
    timeline_campaigns.complaint_status_source,
    timeline_campaigns.survey_answers_source,
    timeline_campaigns.events_source,
]


def _activity(member, store, manager, n: int = 1) -> None:
    actor = StaffActor(user=manager)
    survey = survey_make(kind=SurveyKind.NPS)
    response_make(survey=survey, member=member, score=9, store=store)
    for i in range(n):
        complaint = complaint_file(
            member=member, topic="service", body=f"Cold tea number {i}"
        )
        complaint_staff_reply(
            complaint_id=complaint.pk, actor=actor, body=f"Sorry about {i}"
        )
        complaint_status_set(
            complaint_id=complaint.pk, actor=actor, status=ComplaintStatus.RESOLVED
        )
        event = make_event(store, title_en=f"Tasting {i}", title_uk=f"Дегустація {i}")
        event_rsvp(member=member, event_id=event.pk)
        event_checkin(
            event_id=event.pk,
            member=member,
            actor=actor,
            now=event.starts_at + dt.timedelta(minutes=5),
        )


def test_the_sources_are_registered():
    for source in SOURCES:
        assert source in member360.TIMELINE_SOURCES


def test_complaints_answers_and_events_appear_on_the_page(
    client, manager, member, store
):
    _activity(member, store, manager)
    client.force_login(manager)
    response = client.get(reverse("admin:member360", args=[member.pk]))
    assert response.status_code == 200
    items = response.context["timeline"].items
    labels = {str(i.label) for i in items}
    assert {
        "Complaint",
        "Complaint message",
        "Complaint reply",
        "Complaint status",
        "Survey answer",
        "Event sign-up",
        "Event check-in",
    } <= labels
    page = response.content.decode()
    assert "Cold tea number 0" in page
    assert "Sorry about 0" in page
    assert "Waiting for the customer → Resolved" in page
    assert "After purchase: 9 of 10" in page
    assert "Tasting 0" in page


def test_each_source_is_one_query_and_respects_the_limit(
    member, store, manager, django_assert_num_queries
):
    _activity(member, store, manager, n=3)
    for source in SOURCES:
        with django_assert_num_queries(1):
            items = source(member, 2)
        assert items, source.__name__
        rows = {(i.at, i.label) for i in items}
        assert len(rows) <= (4 if source is timeline_campaigns.events_source else 2)


def test_events_source_keeps_the_newest_check_in_of_an_older_sign_up(
    member, store, manager
):
    first = make_event(store, title_en="Early", title_uk="Рання")
    second = make_event(store, title_en="Late", title_uk="Пізня")
    event_rsvp(member=member, event_id=first.pk)
    event_rsvp(member=member, event_id=second.pk)
    EventRsvp.objects.filter(event=first).update(
        queued_at=timezone.now() - dt.timedelta(days=2),
        checked_in_at=timezone.now() + dt.timedelta(days=3),
    )
    newest = timeline_campaigns.events_source(member, 1)
    assert newest[-1].title == "Early"
    assert str(newest[-1].label) == "Event check-in"
    assert EventRsvp.objects.get(event=second).status == RsvpStatus.GOING


def test_page_queries_do_not_grow_with_complaints_answers_and_events(
    client, manager, member, store, django_assert_max_num_queries
):
    _activity(member, store, manager, n=1)
    client.force_login(manager)
    url = reverse("admin:member360", args=[member.pk])
    client.get(url)
    with django_assert_max_num_queries(40) as small:
        client.get(url)
    _activity(member, store, manager, n=4)
    with django_assert_max_num_queries(len(small.captured_queries)):
        assert client.get(url).status_code == 200
