"""Batched delivery (messages_deliver_many): the same verdicts as delivering one
by one, one email connection per batch, failures kept to their message,
constant queries per batch, and each message handed over once under races."""

from __future__ import annotations

import datetime as dt
import smtplib
import threading

import pytest
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend as LocmemEmailBackend
from django.db import connection
from django.test.utils import CaptureQueriesContext

from campaigns.messaging.delivery import message_deliver, messages_deliver_many
from campaigns.messaging.services import delivery_settings_get
from campaigns.models import Message, MessageStatus
from members.models import Channel, Member
from members.tests.factories import MemberFactory

pytestmark = pytest.mark.django_db

# 20:00 UTC: 05:00 in Tokyo (quiet hours), 16:00 in New York, 23:00 in Kyiv.
EVENING = dt.datetime(2026, 6, 1, 20, 0, tzinfo=dt.UTC)


def _member(store, **fields) -> Member:
    member = MemberFactory(store=store)
    fields = {"email_consent": True, "sms_consent": True, **fields}
    Member.objects.filter(pk=member.pk).update(**fields)
    return Member.objects.get(pk=member.pk)


def _message(member, key, *, channel=Channel.EMAIL, marketing=True, **fields):
    """A queued message written directly: message_send would deliver it on
    commit, which a transactional test runs at once."""
    return Message.objects.create(
        member=member,
        key=key,
        kind="campaign",
        marketing=marketing,
        channel=channel,
        to=member.email if channel == Channel.EMAIL else member.phone,
        language="en",
        subject="Offer",
        body="20% off",
        **fields,
    )


def _world(store, tag: str) -> list[int]:
    """The same members and messages each time it is called; the ids of the
    messages to deliver, in the order they were written."""
    conf = delivery_settings_get()
    conf.frequency_cap = 2
    conf.save()
    no_consent = _member(store, email_consent=False)
    night = _member(store, timezone="Asia/Tokyo")
    new_york = _member(store, timezone="America/New_York")
    likes_ten = _member(store, preferred_send_hour=10)
    capped = _member(store)
    room_for_one = _member(store)
    for n in range(2):
        _message(
            capped,
            f"{tag}:earlier:{n}",
            status=MessageStatus.SENT,
            sent_at=EVENING - dt.timedelta(days=3),
        )
    _message(
        room_for_one,
        f"{tag}:earlier",
        status=MessageStatus.SENT,
        sent_at=EVENING - dt.timedelta(days=1),
    )
    # Sent 8 days ago: out of the window, counts for nothing.
    _message(
        room_for_one,
        f"{tag}:long-ago",
        status=MessageStatus.SENT,
        sent_at=EVENING - dt.timedelta(days=8),
    )
    messages = [
        _message(no_consent, f"{tag}:a"),
        _message(night, f"{tag}:b", channel=Channel.SMS),
        _message(night, f"{tag}:c"),  # email: no quiet hours
        _message(new_york, f"{tag}:d", channel=Channel.SMS),
        _message(likes_ten, f"{tag}:e"),
        _message(capped, f"{tag}:f"),
        _message(capped, f"{tag}:g", marketing=False),  # service: never capped
        _message(room_for_one, f"{tag}:h"),
        _message(room_for_one, f"{tag}:i"),
        _message(room_for_one, f"{tag}:j"),
        _message(no_consent, f"{tag}:k", send_after=EVENING + dt.timedelta(hours=1)),
    ]
    return [m.pk for m in messages]


def _outcome(ids: list[int]) -> list[tuple]:
    rows = Message.objects.in_bulk(ids)
    return [
        (
            rows[pk].status,
            rows[pk].error,
            rows[pk].send_after,
            rows[pk].attempts,
            rows[pk].sent_at,
        )
        for pk in ids
    ]


def test_batch_decides_exactly_as_one_by_one(store, sms_outbox):
    one_by_one = _world(store, "single")
    for pk in one_by_one:
        message_deliver(message_id=pk, now=EVENING)
    expected = _outcome(one_by_one)
    singles_mailed = len(mail.outbox)
    batched = _world(store, "batch")

    result = messages_deliver_many(message_ids=batched, now=EVENING)

    assert _outcome(batched) == expected
    statuses = [row[0] for row in expected]
    assert statuses == [
        MessageStatus.SUPPRESSED,  # no consent
        MessageStatus.QUEUED,  # SMS in Tokyo's night
        MessageStatus.SENT,
        MessageStatus.SENT,  # SMS in New York's afternoon
        MessageStatus.QUEUED,  # preferred hour
        MessageStatus.SUPPRESSED,  # cap reached by earlier sends
        MessageStatus.SENT,
        MessageStatus.SENT,  # the cap leaves room for one...
        MessageStatus.SUPPRESSED,  # ...and these two are over it
        MessageStatus.SUPPRESSED,
        MessageStatus.QUEUED,  # not due: left alone
    ]
    assert expected[0][1] == "No email marketing consent"
    assert expected[1][1].startswith("Delayed: quiet hours in Asia/Tokyo")
    assert expected[1][2] == dt.datetime(2026, 6, 2, 0, 0, tzinfo=dt.UTC)
    assert expected[4][1].startswith("Delayed: the member's preferred hour")
    assert expected[5][1] == "Frequency cap: 2 marketing messages in the last 7 days"
    assert expected[8][1] == "Frequency cap: 2 marketing messages in the last 7 days"
    assert (expected[10][1], expected[10][3]) == ("", 0)
    assert (result.handed_over, result.suppressed, result.delayed, result.failed) == (
        4,
        4,
        2,
        0,
    )
    assert len(mail.outbox) == 2 * singles_mailed == 6
    assert len(sms_outbox) == 2
    assert all(
        Message.objects.get(pk=pk).provider_id
        for pk, row in zip(batched, expected, strict=True)
        if row[0] == MessageStatus.SENT and pk != batched[3]  # locmem SMS: no id
    )


def test_a_message_already_sent_is_not_sent_again(store):
    member = _member(store)
    ids = [_message(member, f"once:{n}", marketing=False).pk for n in range(3)]
    messages_deliver_many(message_ids=ids[:2])

    result = messages_deliver_many(message_ids=ids + ids)

    assert result.handed_over == 1
    assert len(mail.outbox) == 3
    assert set(Message.objects.values_list("attempts", flat=True)) == {1}


class CountingEmailBackend(LocmemEmailBackend):
    """The test outbox, counting connections; some addresses fail as a mail
    server would."""

    made = 0
    opened = 0

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        CountingEmailBackend.made += 1

    def open(self):
        CountingEmailBackend.opened += 1
        return super().open()

    def send_messages(self, messages):
        for message in messages:
            if message.to == ["down@example.com"]:
                raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")
            if message.to == ["gone@example.com"]:
                raise smtplib.SMTPRecipientsRefused(
                    {"gone@example.com": (550, b"No such user")}
                )
        return super().send_messages(messages)


@pytest.fixture
def counting_backend(settings):
    settings.EMAIL_BACKEND = (
        "campaigns.tests.messaging.test_delivery_batch.CountingEmailBackend"
    )
    CountingEmailBackend.made = CountingEmailBackend.opened = 0
    return CountingEmailBackend


def test_one_email_connection_per_batch(store, counting_backend, monkeypatch):
    monkeypatch.setattr("campaigns.messaging.delivery.DELIVER_BATCH", 4)
    ids = [_message(_member(store), f"conn:{n}").pk for n in range(6)]

    result = messages_deliver_many(message_ids=ids)

    assert result.handed_over == 6
    assert len(mail.outbox) == 6
    assert (counting_backend.made, counting_backend.opened) == (2, 2)


def test_one_backend_failure_leaves_the_others_sent(store, counting_backend):
    ok = _member(store)
    down = _member(store, email="down@example.com")
    gone = _member(store, email="gone@example.com")
    ids = [
        _message(ok, "fail:1").pk,
        _message(down, "fail:2").pk,
        _message(gone, "fail:3").pk,
        _message(ok, "fail:4", marketing=False).pk,
    ]

    result = messages_deliver_many(message_ids=ids, now=EVENING)

    rows = Message.objects.in_bulk(ids)
    assert [rows[pk].status for pk in ids] == [
        MessageStatus.SENT,
        MessageStatus.QUEUED,
        MessageStatus.FAILED,
        MessageStatus.SENT,
    ]
    retried, failed = rows[ids[1]], rows[ids[2]]
    assert retried.send_after == EVENING + dt.timedelta(minutes=5)
    assert retried.error == "Attempt 1 failed: Connection unexpectedly closed"
    assert retried.sent_at is None
    assert failed.failed_at == EVENING
    assert "No such user" in failed.error
    assert [m.to for m in mail.outbox] == [[ok.email], [ok.email]]
    assert rows[ids[0]].provider_id and rows[ids[3]].provider_id
    assert (result.handed_over, result.failed) == (4, 2)


def test_batch_queries_grow_only_by_one_update_per_message_handed_over(store):
    """The decisions and the claim cost the same for 5 messages as for 50; each
    message handed over costs the one UPDATE that marks it sent (the bound on
    what a crash can lose, see test_delivery_recovery.py)."""
    delivery_settings_get()

    def queries_for(n: int, tag: str) -> tuple[int, int]:
        ids = []
        for i in range(n):
            member = _member(store, email_consent=i % 5 != 0)
            ids.append(_message(member, f"{tag}:{i}").pk)
        with CaptureQueriesContext(connection) as ctx:
            result = messages_deliver_many(message_ids=ids)
        assert (result.handed_over, result.suppressed) == (n * 4 // 5, n // 5)
        return len(ctx.captured_queries) - result.handed_over, result.handed_over

    per_batch_small, handed_small = queries_for(5, "small")
    per_batch_large, handed_large = queries_for(50, "large")
    assert (handed_small, handed_large) == (4, 40)
    assert per_batch_small == per_batch_large


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_batches_and_single_deliveries_at_once_hand_each_message_over_once(
    store,
):
    """Two workers deliver the same batch while a third delivers the same
    messages one by one in reverse order: no deadlock, each message leaves
    once, and the cap (2) holds for the member with three offers."""
    conf = delivery_settings_get()
    conf.frequency_cap = 2
    conf.save()
    members = [_member(store) for _ in range(8)]
    ids = [_message(m, f"race:{m.pk}").pk for m in members]
    ids += [_message(members[0], f"race:extra:{n}").pk for n in range(2)]
    barrier = threading.Barrier(3)
    errors = []

    def work(deliver):
        try:
            barrier.wait()
            deliver()
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)
        finally:
            connection.close()

    def singles():
        for pk in reversed(ids):
            message_deliver(message_id=pk)

    threads = [
        threading.Thread(
            target=work, args=(lambda: messages_deliver_many(message_ids=ids),)
        ),
        threading.Thread(
            target=work, args=(lambda: messages_deliver_many(message_ids=ids),)
        ),
        threading.Thread(target=work, args=(singles,)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    sent = Message.objects.filter(status=MessageStatus.SENT)
    assert sent.count() == 9
    assert Message.objects.filter(status=MessageStatus.SUPPRESSED).count() == 1
    assert set(sent.values_list("attempts", flat=True)) == {1}
    assert len(mail.outbox) == 9
    assert len({m.extra_headers["X-Loyalty-Message"] for m in mail.outbox}) == 9
