"""Campaigns' part of the leaving question: the unsubscribe page asks once the
member has no channel left, the win-back message carries the one-tap link (and
the link works without a login), complaints can be about prices."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.core import mail
from django.utils import timezone

from campaigns.journeys.services import journey_run
from campaigns.messaging.delivery import message_deliver
from campaigns.messaging.services import message_send
from campaigns.messaging.tracking import unsubscribe_url
from campaigns.models import ComplaintTopic, Journey, JourneyKind
from members.models import LeaveAnswer
from members.services import leave_occasion_read
from members.tests.factories import MemberFactory
from rewards.services import purchase_record

pytestmark = pytest.mark.django_db

SITE = "http://127.0.0.1:8000"


def _sent(member):
    message = message_send(
        member=member,
        key="offer",
        kind="campaign",
        subject="New",
        body="New season",
        marketing=True,
    )
    message_deliver(message_id=message.pk)
    message.refresh_from_db()
    return message


def _path(url: str) -> str:
    return url.removeprefix(SITE)


class TestUnsubscribePage:
    def test_no_channel_left_asks_why_and_one_tap_answers(self, client, store):
        fan = MemberFactory(store=store, email="a@example.com", email_consent=True)
        message = _sent(fan)

        response = client.post(_path(unsubscribe_url(message.token)))

        html = response.content.decode()
        assert "Why are you leaving? (optional)" in html
        action = re.search(r'action="([^"]+)" class="leave-reasons"', html).group(1)
        occasion = leave_occasion_read(action.rstrip("/").rsplit("/", 1)[1])
        assert (occasion.member_id, occasion.trigger, occasion.key) == (
            fan.pk,
            "unsubscribed",
            f"message:{message.pk}",
        )
        client.post(action, {"reason": "too_many_messages"})
        answer = LeaveAnswer.objects.get()
        assert (answer.member_id, answer.reason.code) == (fan.pk, "too_many_messages")

    def test_a_channel_still_on_does_not_ask(self, client, store):
        fan = MemberFactory(
            store=store, email="b@example.com", email_consent=True, sms_consent=True
        )
        message = _sent(fan)

        response = client.post(_path(unsubscribe_url(message.token)))

        assert "You are unsubscribed" in response.content.decode()
        assert "Why are you leaving?" not in response.content.decode()


class TestWinBackLink:
    def _lapsed(self, store, language="en"):
        fan = MemberFactory(
            store=store, email="c@example.com", email_consent=True, language=language
        )
        first, _r = purchase_record(
            store=store,
            member=fan,
            receipt_id="P1",
            total="50.00",
            occurred_at=timezone.now() - dt.timedelta(days=40),
        )
        return fan, first

    def _run(self, capture):
        with capture(execute=True):
            journey_run(kind="win_back")

    def test_message_carries_a_signed_link_that_answers_without_login(
        self, client, store, django_capture_on_commit_callbacks
    ):
        Journey.objects.create(
            kind=JourneyKind.WIN_BACK,
            enabled=True,
            days=30,
            body_en="We miss you: {{ days_since_purchase }} days",
        )
        fan, first = self._lapsed(store)

        self._run(django_capture_on_commit_callbacks)

        body = mail.outbox[0].body
        assert body.startswith("We miss you: 40 days")
        assert "Not coming back? Tell us why in one tap:" in body
        link = re.search(rf"{re.escape(SITE)}/leaving/[^/\s]+/", body).group(0)
        response = client.post(_path(link), {"reason": "competitor"})
        assert response.status_code == 200
        answer = LeaveAnswer.objects.get()
        assert (answer.member_id, answer.trigger, answer.key, answer.reason.code) == (
            fan.pk,
            "win_back",
            f"journey:winback:{first.pk}",
            "competitor",
        )

    def test_a_text_that_places_the_link_gets_it_once(
        self, store, django_capture_on_commit_callbacks
    ):
        Journey.objects.create(
            kind=JourneyKind.WIN_BACK,
            enabled=True,
            days=30,
            body_en="Why did you go? {{ leave_reason_link }} Bye",
        )
        self._lapsed(store)

        self._run(django_capture_on_commit_callbacks)

        body = mail.outbox[0].body
        assert body.count("/leaving/") == 1
        assert "Tell us why in one tap" not in body


def test_complaints_can_be_about_prices():
    assert ComplaintTopic.PRICE == "price"
    assert ComplaintTopic.PRICE.label == "Prices"
