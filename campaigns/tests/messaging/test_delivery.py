"""Delivery at send time: consent, quiet hours, the frequency cap, the email that
leaves (text, HTML, unsubscribe headers), and sending each message once."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.core import mail
from django.db import connection

from campaigns.messaging.delivery import message_deliver
from campaigns.messaging.rules import quiet_hours_end
from campaigns.messaging.services import (
    delivery_settings_get,
    message_send,
    messages_requeue_due,
)
from campaigns.models import Message, MessageStatus
from members.models import Channel
from members.tests.factories import MemberFactory

pytestmark = pytest.mark.django_db

# A summer evening: 20:00 UTC is 05:00 in Tokyo (night) and 16:00 in New York.
EVENING = dt.datetime(2026, 6, 1, 20, 0, tzinfo=dt.UTC)


@pytest.fixture
def fan(store):
    """A member who allows offers by email and SMS."""
    return MemberFactory(
        store=store, email="fan@example.com", email_consent=True, sms_consent=True
    )


def _offer(member, key="offer:1", channel=None, marketing=True, body="20% off"):
    return message_send(
        member=member,
        key=key,
        kind="campaign",
        subject="Offer",
        body=body,
        channel=channel,
        marketing=marketing,
    )


class TestConsent:
    def test_marketing_email_without_consent_is_not_sent(self, member):
        assert member.email_consent is False
        message = _offer(member)

        message_deliver(message_id=message.pk)

        message.refresh_from_db()
        assert message.status == MessageStatus.SUPPRESSED
        assert message.error == "No email marketing consent"
        assert mail.outbox == []

    def test_consent_is_read_when_sending_not_when_queueing(self, fan):
        message = _offer(fan)
        fan.sms_consent = fan.email_consent = False  # withdrawn meanwhile
        fan.save(update_fields=["email_consent", "sms_consent"])

        message_deliver(message_id=message.pk)

        message.refresh_from_db()
        assert message.status == MessageStatus.SUPPRESSED

    def test_marketing_sms_without_consent_is_not_sent(self, member, sms_outbox):
        message = _offer(member, channel=Channel.SMS)

        message_deliver(message_id=message.pk, now=EVENING.replace(hour=10))

        message.refresh_from_db()
        assert message.status == MessageStatus.SUPPRESSED
        assert message.error == "No SMS marketing consent"
        assert sms_outbox == []

    def test_service_message_needs_no_consent(self, member):
        message = _offer(member, marketing=False)

        message_deliver(message_id=message.pk)

        message.refresh_from_db()
        assert message.status == MessageStatus.SENT
        assert len(mail.outbox) == 1


class TestQuietHours:
    def test_night_sms_waits_for_the_morning_then_leaves(
        self, fan, sms_outbox, monkeypatch
    ):
        fan.timezone = "Asia/Tokyo"
        fan.save(update_fields=["timezone"])
        message = _offer(fan, channel=Channel.SMS)

        message_deliver(message_id=message.pk, now=EVENING)

        message.refresh_from_db()
        assert message.status == MessageStatus.QUEUED
        # 09:00 in Tokyo is midnight UTC.
        assert message.send_after == dt.datetime(2026, 6, 2, 0, 0, tzinfo=dt.UTC)
        assert message.error.startswith("Delayed: quiet hours in Asia/Tokyo")
        assert sms_outbox == []

        # Not yet due: the sweep leaves it alone.
        assert messages_requeue_due(now=EVENING + dt.timedelta(hours=2)) == 0
        morning = dt.datetime(2026, 6, 2, 0, 5, tzinfo=dt.UTC)
        monkeypatch.setattr("django.utils.timezone.now", lambda: morning)
        assert messages_requeue_due(now=morning) == 1

        message.refresh_from_db()
        assert message.status == MessageStatus.SENT
        assert message.sent_at == morning
        assert [m["to"] for m in sms_outbox] == [fan.phone]
        assert sms_outbox[0]["text"].startswith("20% off\n")

    def test_afternoon_sms_in_another_zone_leaves_at_once(self, fan, sms_outbox):
        fan.timezone = "America/New_York"
        fan.save(update_fields=["timezone"])
        message = _offer(fan, channel=Channel.SMS)

        message_deliver(message_id=message.pk, now=EVENING)

        message.refresh_from_db()
        assert message.status == MessageStatus.SENT
        assert len(sms_outbox) == 1

    def test_quiet_hours_do_not_hold_email_or_service_sms(self, fan, sms_outbox):
        fan.timezone = "Asia/Tokyo"
        fan.save(update_fields=["timezone"])
        email = _offer(fan, key="e")
        service_sms = _offer(fan, key="s", channel=Channel.SMS, marketing=False)

        message_deliver(message_id=email.pk, now=EVENING)
        message_deliver(message_id=service_sms.pk, now=EVENING)

        assert Message.objects.filter(status=MessageStatus.SENT).count() == 2

    @pytest.mark.parametrize(
        ("local_hour", "quiet"),
        [(20, False), (21, True), (23, True), (0, True), (8, True), (9, False)],
    )
    def test_window_wraps_midnight(self, local_hour, quiet):
        conf = delivery_settings_get()
        kyiv_summer = dt.timezone(dt.timedelta(hours=3))
        at = dt.datetime(2026, 6, 1, local_hour, 30, tzinfo=kyiv_summer)

        end = quiet_hours_end(at=at, tz_name="Europe/Kyiv", conf=conf)

        assert (end is not None) is quiet
        if quiet:
            assert end.astimezone(kyiv_summer).hour == 9
            assert end > at


class TestFrequencyCap:
    def test_messages_over_the_cap_are_not_sent_and_say_why(self, fan):
        conf = delivery_settings_get()
        conf.frequency_cap = 2
        conf.save()
        messages = [_offer(fan, key=f"offer:{n}") for n in range(3)]

        for message in messages:
            message_deliver(message_id=message.pk)

        statuses = [Message.objects.get(pk=m.pk).status for m in messages]  # in order
        assert statuses == [
            MessageStatus.SENT,
            MessageStatus.SENT,
            MessageStatus.SUPPRESSED,
        ]
        assert Message.objects.get(pk=messages[2].pk).error == (
            "Frequency cap: 2 marketing messages in the last 7 days"
        )
        assert len(mail.outbox) == 2

    def test_the_window_rolls(self, fan):
        conf = delivery_settings_get()
        conf.frequency_cap = 1
        conf.save()
        first, second = _offer(fan, key="a"), _offer(fan, key="b")
        message_deliver(message_id=first.pk, now=EVENING - dt.timedelta(days=8))

        message_deliver(message_id=second.pk, now=EVENING)

        assert Message.objects.get(pk=second.pk).status == MessageStatus.SENT

    def test_service_messages_are_neither_capped_nor_counted(self, fan):
        conf = delivery_settings_get()
        conf.frequency_cap = 1
        conf.save()
        for n in range(3):
            message_deliver(message_id=_offer(fan, key=f"s{n}", marketing=False).pk)
        offer = _offer(fan, key="offer")

        message_deliver(message_id=offer.pk)

        assert Message.objects.filter(status=MessageStatus.SENT).count() == 4


class TestOnce:
    def test_deliver_twice_sends_once(self, fan):
        message = _offer(fan)

        message_deliver(message_id=message.pk)
        message_deliver(message_id=message.pk)

        assert len(mail.outbox) == 1
        message.refresh_from_db()
        assert message.attempts == 1

    def test_send_on_commit_then_a_redelivered_task_sends_nothing(
        self, fan, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=True):
            message = _offer(fan)

        assert message_deliver(message_id=message.pk) is None
        assert len(mail.outbox) == 1

    def test_stuck_queued_message_is_swept_up(self, fan):
        message = _offer(fan)  # its task never ran (no commit in this test)
        later = message.created_at + dt.timedelta(minutes=16)

        assert messages_requeue_due(now=later) == 1

        assert Message.objects.get(pk=message.pk).status == MessageStatus.SENT


class TestEmail:
    def test_marketing_email_carries_one_click_unsubscribe_headers(self, fan):
        message = _offer(fan, body="See https://shop.example.com/sale. Bye")

        message_deliver(message_id=message.pk)

        email = mail.outbox[0]
        header = email.extra_headers["List-Unsubscribe"]
        assert header.startswith("<http://127.0.0.1:8000/u/")
        assert email.extra_headers["List-Unsubscribe-Post"] == (
            "List-Unsubscribe=One-Click"
        )
        assert header.strip("<>") in email.body
        assert email.extra_headers["X-Loyalty-Message"] == message.token

    def test_html_version_has_the_pixel_and_tracked_links(self, fan):
        message = _offer(fan, body="See https://shop.example.com/sale. Bye")

        message_deliver(message_id=message.pk)

        html, mimetype = mail.outbox[0].alternatives[0]
        assert mimetype == "text/html"
        assert "/o/" in html and 'width="1"' in html
        assert "/c/" in html and "/0/" in html
        assert 'href="https://shop.example.com/sale' not in html
        assert ">https://shop.example.com/sale</a>." in html
        # The plain text keeps the link as written.
        assert "https://shop.example.com/sale." in mail.outbox[0].body

    def test_service_email_has_no_unsubscribe(self, fan):
        message_deliver(message_id=_offer(fan, marketing=False).pk)

        assert "List-Unsubscribe" not in mail.outbox[0].extra_headers

    def test_message_id_is_kept_for_bounces(self, fan):
        message = _offer(fan)
        message_deliver(message_id=message.pk)

        message.refresh_from_db()
        assert message.provider_id
        assert mail.outbox[0].extra_headers["Message-ID"] == f"<{message.provider_id}>"


class TestFailures:
    def test_transient_failure_is_retried_later_then_fails(self, fan, settings):
        settings.LOYALTY_SMS_BACKEND = (
            "campaigns.tests.messaging.test_delivery.DownBackend"
        )
        message = _offer(fan, channel=Channel.SMS, marketing=False)
        at = EVENING

        message_deliver(message_id=message.pk, now=at)

        message.refresh_from_db()
        assert message.status == MessageStatus.QUEUED
        assert message.send_after == at + dt.timedelta(minutes=5)
        assert message.error == "Attempt 1 failed: gateway down"
        for _n in range(2):
            at = message.send_after
            message_deliver(message_id=message.pk, now=at)
            message.refresh_from_db()
        assert message.status == MessageStatus.FAILED
        assert message.attempts == 3
        assert message.error == "gateway down"
        assert message.failed_at == at


class DownBackend:
    def send(self, *, to, text, reference=""):
        from campaigns.messaging.backends import DeliveryError

        raise DeliveryError("gateway down", transient=True)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_frequency_cap_holds_when_workers_race(store):
    """Six workers deliver six offers to one member at once; the cap is 2."""
    member = MemberFactory(store=store, email_consent=True)
    conf = delivery_settings_get()
    conf.frequency_cap = 2
    conf.save()
    ids = [_offer(member, key=f"race:{n}").pk for n in range(6)]
    barrier = threading.Barrier(len(ids))

    def deliver(pk):
        try:
            barrier.wait()
            message_deliver(message_id=pk)
        finally:
            connection.close()

    threads = [threading.Thread(target=deliver, args=(pk,)) for pk in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    sent = Message.objects.filter(status=MessageStatus.SENT).count()
    capped = Message.objects.filter(status=MessageStatus.SUPPRESSED).count()
    assert (sent, capped) == (2, 4)
    assert len(mail.outbox) == 2


class TestMemberTimezone:
    def test_unknown_zone_is_refused(self):
        from django.core.exceptions import ValidationError

        from members.models import timezone_validate

        timezone_validate("Europe/Chisinau")
        with pytest.raises(ValidationError, match="not a time zone"):
            timezone_validate("Mars/Olympus")

    def test_new_member_gets_the_site_zone_and_empty_means_it_too(self, fan, settings):
        conf = delivery_settings_get()
        assert fan.timezone == settings.TIME_ZONE
        # 23:30 in Kyiv (UTC+3 in summer) is quiet for "" as for Europe/Kyiv.
        at = dt.datetime(2026, 6, 1, 20, 30, tzinfo=dt.UTC)

        assert quiet_hours_end(at=at, tz_name="", conf=conf) == quiet_hours_end(
            at=at, tz_name="Europe/Kyiv", conf=conf
        )
