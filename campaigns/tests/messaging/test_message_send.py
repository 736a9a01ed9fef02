"""One message per member and purpose, delivered once after commit."""

import pytest
from django.core import mail

from campaigns.messaging.delivery import message_deliver
from campaigns.messaging.services import message_send
from campaigns.models import Message, MessageStatus
from members.models import Channel

pytestmark = pytest.mark.django_db


def test_send_writes_one_message_and_delivers_email_on_commit(
    member, django_capture_on_commit_callbacks
):
    member.email = "olena@example.com"
    with django_capture_on_commit_callbacks(execute=True):
        message = message_send(
            member=member, key="t:1", kind="test", subject="Hi", body="Hello"
        )
    message.refresh_from_db()
    assert message.status == MessageStatus.SENT
    assert message.channel == Channel.EMAIL
    assert [m.to for m in mail.outbox] == [["olena@example.com"]]


def test_same_key_twice_sends_nothing_more(member, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        first = message_send(
            member=member, key="t:2", kind="test", subject="", body="A", channel="sms"
        )
        again = message_send(
            member=member, key="t:2", kind="test", subject="", body="B", channel="sms"
        )
    assert again.pk == first.pk
    assert Message.objects.filter(member=member).count() == 1


def test_deliver_twice_hands_the_message_over_once(member, sms_outbox):
    message = message_send(
        member=member, key="t:3", kind="test", subject="", body="C", channel="sms"
    )
    message_deliver(message_id=message.pk)
    message_deliver(message_id=message.pk)
    assert [m["text"] for m in sms_outbox] == ["C"]


def test_backend_failure_is_recorded(member, settings):
    settings.LOYALTY_SMS_BACKEND = (
        "campaigns.tests.messaging.test_message_send.BrokenBackend"
    )
    message = message_send(
        member=member, key="t:4", kind="test", subject="", body="D", channel="sms"
    )
    message_deliver(message_id=message.pk)
    message.refresh_from_db()
    assert message.status == MessageStatus.FAILED
    assert message.error == "gateway down"


class BrokenBackend:
    def send(self, *, to, text):
        raise RuntimeError("gateway down")
