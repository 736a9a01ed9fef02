"""One-time codes leave as service messages: logged, delivered at once, once."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone, translation

from campaigns.messaging.delivery import message_deliver
from campaigns.messaging.services import delivery_settings_get, message_send
from campaigns.models import Message, MessageStatus
from members.models import Channel
from members.services import OTP_MESSAGE_KIND, member_enroll, member_signup

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-42"


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def _code(text: str) -> str:
    return re.search(r"\b(\d{6})\b", text).group(1)


def _claim_by_sms(store, capture):
    member_enroll(phone="0671234567", store=store)
    with capture(execute=True):
        result = member_signup(
            email="olena@example.com", password=PASSWORD, phone="+380671234567"
        )
    return result.pending_code


def test_code_by_sms_is_a_logged_service_message_sent_at_once(
    store, sms_outbox, django_capture_on_commit_callbacks
):
    otp = _claim_by_sms(store, django_capture_on_commit_callbacks)

    message = Message.objects.get(member=otp.member)
    assert message.key == f"one-time-code:{otp.pk}"
    assert message.kind == OTP_MESSAGE_KIND
    assert message.marketing is False
    assert (message.channel, message.to) == (Channel.SMS, "+380671234567")
    assert message.status == MessageStatus.SENT
    assert [sms["to"] for sms in sms_outbox] == ["+380671234567"]
    code = _code(sms_outbox[0]["text"])
    # The log shows that a code went out, not the code.
    assert code not in message.body
    # Named after the program (members.branding: the default name here).
    assert "Your Loyalty club confirmation code" in message.body


def test_code_by_email_is_a_logged_message(
    store, mailoutbox, sms_outbox, django_capture_on_commit_callbacks
):
    member = member_enroll(phone="0671234567", email="olena@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        result = member_signup(
            email="olena@example.com", password=PASSWORD, phone="0677654321"
        )

    message = Message.objects.get(member=member, kind=OTP_MESSAGE_KIND)
    assert message.key == f"one-time-code:{result.pending_code.pk}"
    assert (message.channel, message.status) == (Channel.EMAIL, MessageStatus.SENT)
    assert message.subject == "Your confirmation code"
    assert sms_outbox == []
    assert [m.to for m in mailoutbox] == [["olena@example.com"]]
    assert _code(mailoutbox[0].body) not in message.body


def test_code_ignores_marketing_rules(
    store, sms_outbox, django_capture_on_commit_callbacks
):
    """No SMS consent, quiet hours all day long and a preferred hour that is not
    now: a code is not marketing, so it still leaves at once."""
    conf = delivery_settings_get()
    now = timezone.localtime()
    conf.quiet_start = (now - dt.timedelta(hours=1)).time().replace(microsecond=0)
    conf.quiet_end = (now + dt.timedelta(hours=1)).time().replace(microsecond=0)
    conf.save()
    member = member_enroll(phone="0671234567", store=store)
    member.sms_consent = False
    member.preferred_send_hour = (now.hour + 3) % 24
    member.save()

    with django_capture_on_commit_callbacks(execute=True):
        member_signup(email="olena@example.com", password=PASSWORD, phone="0671234567")

    assert len(sms_outbox) == 1
    assert Message.objects.get(member=member).status == MessageStatus.SENT


def test_a_retried_delivery_or_send_sends_the_code_once(
    store, sms_outbox, django_capture_on_commit_callbacks
):
    otp = _claim_by_sms(store, django_capture_on_commit_callbacks)
    message = Message.objects.get(member=otp.member)

    # The task redelivered by the broker, then the service called again with
    # the same purpose key.
    assert message_deliver(message_id=message.pk) is None
    with django_capture_on_commit_callbacks(execute=True):
        again = message_send(
            member=otp.member,
            key=f"one-time-code:{otp.pk}",
            kind=OTP_MESSAGE_KIND,
            subject="",
            body="Your loyalty confirmation code: 000000.",
            channel=Channel.SMS,
        )

    assert again.pk == message.pk
    assert len(sms_outbox) == 1
    assert Message.objects.filter(member=otp.member).count() == 1


def test_each_code_is_its_own_message(
    store, sms_outbox, django_capture_on_commit_callbacks
):
    otp = _claim_by_sms(store, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        second = member_signup(
            email="olena@example.com", password=PASSWORD, phone="+380671234567"
        ).pending_code

    assert second.pk != otp.pk
    keys = set(Message.objects.values_list("key", flat=True))
    assert keys == {f"one-time-code:{otp.pk}", f"one-time-code:{second.pk}"}
    assert len(sms_outbox) == 2
