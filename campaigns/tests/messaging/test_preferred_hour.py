"""Marketing email and SMS wait for the member's preferred hour (in their time
zone); within that hour, or without a preference, they leave at once."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail

from campaigns.messaging.delivery import message_deliver
from campaigns.messaging.rules import preferred_hour_next
from campaigns.messaging.services import message_send, messages_requeue_due
from campaigns.models import MessageStatus
from members.models import Channel
from members.tests.factories import MemberFactory

pytestmark = pytest.mark.django_db

# 20:00 UTC on 1 June is 16:00 in New York (EDT, UTC-4).
NOW = dt.datetime(2026, 6, 1, 20, 0, tzinfo=dt.UTC)


@pytest.fixture
def fan(store):
    """A New Yorker who allows offers by email and SMS and likes them at 18:00."""
    fan = MemberFactory(
        store=store, email="fan@example.com", email_consent=True, sms_consent=True
    )
    fan.timezone = "America/New_York"
    fan.preferred_send_hour = 18
    fan.save(update_fields=["timezone", "preferred_send_hour"])
    return fan


def _offer(member, channel=Channel.EMAIL, marketing=True, key="offer:1"):
    return message_send(
        member=member,
        key=key,
        kind="campaign",
        subject="Offer",
        body="20% off",
        channel=channel,
        marketing=marketing,
    )


def test_marketing_email_waits_for_the_preferred_hour_then_leaves(fan, monkeypatch):
    message = _offer(fan)
    mail.outbox.clear()

    message_deliver(message_id=message.pk, now=NOW)

    message.refresh_from_db()
    assert message.status == MessageStatus.QUEUED
    # 18:00 in New York is 22:00 UTC.
    assert message.send_after == dt.datetime(2026, 6, 1, 22, 0, tzinfo=dt.UTC)
    assert message.error.startswith("Delayed: the member's preferred hour")
    assert mail.outbox == []

    assert messages_requeue_due(now=NOW + dt.timedelta(hours=1)) == 0
    at_six = dt.datetime(2026, 6, 1, 22, 5, tzinfo=dt.UTC)
    monkeypatch.setattr("django.utils.timezone.now", lambda: at_six)
    assert messages_requeue_due(now=at_six) == 1
    message.refresh_from_db()
    assert message.status == MessageStatus.SENT
    assert message.sent_at == at_six
    assert len(mail.outbox) == 1


def test_within_the_preferred_hour_it_leaves_at_once(fan):
    fan.preferred_send_hour = 16
    fan.save(update_fields=["preferred_send_hour"])
    message = _offer(fan)

    message_deliver(message_id=message.pk, now=NOW + dt.timedelta(minutes=59))

    message.refresh_from_db()
    assert message.status == MessageStatus.SENT


def test_an_hour_already_past_today_means_tomorrow(fan):
    fan.preferred_send_hour = 9
    fan.save(update_fields=["preferred_send_hour"])
    message = _offer(fan, channel=Channel.SMS)

    message_deliver(message_id=message.pk, now=NOW)

    message.refresh_from_db()
    assert message.status == MessageStatus.QUEUED
    # 09:00 in New York on 2 June is 13:00 UTC.
    assert message.send_after == dt.datetime(2026, 6, 2, 13, 0, tzinfo=dt.UTC)


def test_without_a_preference_or_for_a_service_message_nothing_waits(fan, store):
    service = _offer(fan, marketing=False, key="receipt:1")
    no_preference = MemberFactory(
        store=store, email="any@example.com", email_consent=True
    )
    offer = _offer(no_preference)

    message_deliver(message_id=service.pk, now=NOW)
    message_deliver(message_id=offer.pk, now=NOW)

    service.refresh_from_db()
    offer.refresh_from_db()
    assert (service.status, offer.status) == (MessageStatus.SENT, MessageStatus.SENT)


def test_an_sms_preference_inside_the_quiet_hours_gives_way_to_them(fan, sms_outbox):
    # 23:00 is in the quiet hours (21:00-09:00): holding the SMS until then
    # would only have the quiet hours hold it again, so it leaves now.
    fan.preferred_send_hour = 23
    fan.save(update_fields=["preferred_send_hour"])
    message = _offer(fan, channel=Channel.SMS)

    message_deliver(message_id=message.pk, now=NOW)

    message.refresh_from_db()
    assert message.status == MessageStatus.SENT
    assert len(sms_outbox) == 1


@pytest.mark.parametrize(
    ("local_hour", "hour", "expected_local"),
    [
        (16, 16, None),
        (16, 17, (1, 17)),
        (16, 0, (2, 0)),
        (23, 22, (2, 22)),
    ],
)
def test_preferred_hour_next(local_hour, hour, expected_local):
    import zoneinfo

    tz = zoneinfo.ZoneInfo("Europe/Kyiv")
    at = dt.datetime(2026, 6, 1, local_hour, 30, tzinfo=tz)
    found = preferred_hour_next(at=at, tz_name="Europe/Kyiv", hour=hour)
    if expected_local is None:
        assert found is None
    else:
        day, h = expected_local
        assert found == dt.datetime(2026, 6, day, h, 0, tzinfo=tz)
        assert found.tzinfo == dt.UTC
