"""A worker that dies while handing a batch over loses at most the one message
in flight: each message is marked sent as soon as its backend returns, and
messages_recover_interrupted fails the first message of a dead claim still
sending ("interrupted", never sent again) and queues the rest again. Nothing is
ever handed to a backend twice, even when the sweep takes over a batch that was
only slow."""

from __future__ import annotations

import datetime as dt
import smtplib
from collections import Counter

import pytest
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend as LocmemEmailBackend
from django.utils import timezone

from campaigns.messaging.backends.email import REFERENCE_HEADER
from campaigns.messaging.delivery import messages_deliver_many
from campaigns.messaging.services import (
    INTERRUPTED,
    STUCK_AFTER,
    delivery_settings_get,
    messages_recover_interrupted,
    messages_requeue_due,
)
from campaigns.models import Message, MessageStatus
from members.models import Channel, Member
from members.tests.factories import MemberFactory

pytestmark = pytest.mark.django_db

NOON = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.UTC)


class WorkerDied(BaseException):
    """What a SIGKILL looks like from inside the batch: not an Exception, so no
    backend-failure handling runs; the rows stay as the process left them."""


class RecordingEmailBackend(LocmemEmailBackend):
    """The test outbox, recording the message token of every email it was given
    (before deciding anything, so an email given twice shows twice). An email
    to an address in `die_on` kills the "process"; `during_send` runs inside the
    send of the email to `during_send_to` (the sweep on another worker, say)."""

    seen: list[str] = []
    die_on: set[str] = set()
    during_send_to = ""
    during_send = None

    def send_messages(self, messages):
        for message in messages:
            RecordingEmailBackend.seen.append(message.extra_headers[REFERENCE_HEADER])
            to = message.to[0]
            if to in RecordingEmailBackend.die_on:
                RecordingEmailBackend.die_on.discard(to)
                raise WorkerDied(to)
            if to == RecordingEmailBackend.during_send_to:
                RecordingEmailBackend.during_send_to = ""
                RecordingEmailBackend.during_send()
        return super().send_messages(messages)


@pytest.fixture
def backend(settings):
    settings.EMAIL_BACKEND = (
        "campaigns.tests.messaging.test_recovery.RecordingEmailBackend"
    )
    RecordingEmailBackend.seen = []
    RecordingEmailBackend.die_on = set()
    RecordingEmailBackend.during_send_to = ""
    RecordingEmailBackend.during_send = None
    return RecordingEmailBackend


def _messages(store, n: int, tag: str, *, marketing: bool = False) -> list[Message]:
    messages = []
    for i in range(n):
        member = MemberFactory(store=store, email=f"{tag}-{i + 1}@example.com")
        Member.objects.filter(pk=member.pk).update(email_consent=True)
        messages.append(
            Message.objects.create(
                member=member,
                key=f"{tag}:{i + 1}",
                kind="campaign",
                marketing=marketing,
                channel=Channel.EMAIL,
                to=member.email,
                language="en",
                subject="Offer",
                body="20% off",
            )
        )
    return messages


def _rows(messages: list[Message]) -> list[Message]:
    rows = Message.objects.in_bulk([m.pk for m in messages])
    return [rows[m.pk] for m in messages]


def _statuses(messages: list[Message]) -> list[str]:
    return [row.status for row in _rows(messages)]


def _crash(messages: list[Message], *, now: dt.datetime) -> None:
    with pytest.raises(WorkerDied):
        messages_deliver_many(message_ids=[m.pk for m in messages], now=now)


def test_a_worker_dying_mid_batch_loses_only_the_message_in_flight(store, backend):
    messages = _messages(store, 6, "kill")
    backend.die_on = {"kill-3@example.com"}

    _crash(messages, now=NOON)

    S, SENDING = MessageStatus.SENT, MessageStatus.SENDING
    assert _statuses(messages) == [S, S, SENDING, SENDING, SENDING, SENDING]
    rows = _rows(messages)
    assert len({row.claim for row in rows}) == 1 and len(rows[0].claim) == 32
    assert all(row.provider_id for row in rows[:2])
    assert not any(row.provider_id for row in rows[2:])

    assert messages_recover_interrupted(now=NOON, older_than=dt.timedelta(0)) == (
        3,
        1,
    )

    rows = _rows(messages)
    assert (
        _statuses(messages) == [S, S, MessageStatus.FAILED] + [MessageStatus.QUEUED] * 3
    )
    assert rows[2].error == INTERRUPTED and rows[2].failed_at == NOON
    for row in rows[3:]:
        assert (row.send_after, row.sent_at, row.claim, row.attempts) == (
            None,
            None,
            "",
            0,
        )

    later = NOON + dt.timedelta(minutes=1)
    result = messages_deliver_many(message_ids=[m.pk for m in messages], now=later)

    assert result.handed_over == 3
    assert _statuses(messages) == [S, S, MessageStatus.FAILED, S, S, S]
    assert [row.attempts for row in _rows(messages)] == [1, 1, 1, 1, 1, 1]
    assert Counter(backend.seen) == Counter(m.token for m in messages)
    assert [m.to[0] for m in mail.outbox] == [
        f"kill-{n}@example.com" for n in (1, 2, 4, 5, 6)
    ]


def test_recovery_leaves_claims_younger_than_older_than(store, backend):
    messages = _messages(store, 4, "young")
    backend.die_on = {"young-2@example.com"}
    _crash(messages, now=NOON)
    before = _statuses(messages)

    assert messages_recover_interrupted(now=NOON + dt.timedelta(minutes=14)) == (
        0,
        0,
    )
    assert _statuses(messages) == before

    assert messages_recover_interrupted(now=NOON + dt.timedelta(minutes=15)) == (
        2,
        1,
    )
    assert _statuses(messages) == [
        MessageStatus.SENT,
        MessageStatus.FAILED,
        MessageStatus.QUEUED,
        MessageStatus.QUEUED,
    ]


def test_two_dead_claims_are_recovered_separately(store, backend):
    first = _messages(store, 4, "first")
    second = _messages(store, 3, "second")
    backend.die_on = {"first-2@example.com", "second-1@example.com"}
    _crash(first, now=NOON)
    _crash(second, now=NOON + dt.timedelta(seconds=5))
    assert {m.claim for m in _rows(first)} != {m.claim for m in _rows(second)}
    in_first_claim_only = Message.objects.filter(
        pk=first[3].pk, claim=_rows(first)[0].claim
    )
    assert in_first_claim_only.exists()

    assert messages_recover_interrupted(
        now=NOON + dt.timedelta(minutes=1), older_than=dt.timedelta(0)
    ) == (4, 2)

    F, Q = MessageStatus.FAILED, MessageStatus.QUEUED
    assert _statuses(first) == [MessageStatus.SENT, F, Q, Q]
    assert _statuses(second) == [F, Q, Q]


def test_the_sweep_recovers_a_dead_claim_and_delivers_the_rest(store, backend):
    messages = _messages(store, 5, "sweep")
    # Written a little before their batch claimed them.
    Message.objects.filter(pk__in=[m.pk for m in messages]).update(
        created_at=NOON - dt.timedelta(minutes=1)
    )
    backend.die_on = {"sweep-2@example.com"}
    _crash(messages, now=NOON)

    # Eager Celery in tests: the sweep's message_deliver tasks run at once.
    queued = messages_requeue_due(now=NOON + STUCK_AFTER + dt.timedelta(minutes=5))

    assert queued == 3
    assert _statuses(messages) == [
        MessageStatus.SENT,
        MessageStatus.FAILED,
        MessageStatus.SENT,
        MessageStatus.SENT,
        MessageStatus.SENT,
    ]
    assert Counter(backend.seen) == Counter(m.token for m in messages)


@pytest.mark.parametrize("in_flight_send", ["returns", "fails"])
def test_a_slow_batch_taken_over_by_the_sweep_stops_and_sends_nothing_twice(
    store, backend, in_flight_send
):
    """The sweep decides a claim is dead while its batch is only slow (a
    backend call longer than STUCK_AFTER): it fails the message in flight and
    queues the rest; the batch finds its claim gone after that call and hands
    over nothing more, so the queued ones leave once, later."""
    messages = _messages(store, 5, "slow")

    def sweep_meanwhile():
        assert messages_recover_interrupted(
            now=timezone.now(), older_than=dt.timedelta(0)
        ) == (3, 1)
        if in_flight_send == "fails":
            raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")

    backend.during_send_to = "slow-2@example.com"
    backend.during_send = sweep_meanwhile

    result = messages_deliver_many(message_ids=[m.pk for m in messages])

    assert result.handed_over == 2
    assert _statuses(messages) == [
        MessageStatus.SENT,
        MessageStatus.FAILED,
        MessageStatus.QUEUED,
        MessageStatus.QUEUED,
        MessageStatus.QUEUED,
    ]
    assert _rows(messages)[1].error == INTERRUPTED

    messages_deliver_many(message_ids=[m.pk for m in messages])

    assert Counter(backend.seen) == Counter(m.token for m in messages)
    assert (
        _statuses(messages)
        == [MessageStatus.SENT, MessageStatus.FAILED] + [MessageStatus.SENT] * 3
    )


def test_the_frequency_cap_counts_messages_still_sending(store, backend):
    conf = delivery_settings_get()
    conf.frequency_cap = 2
    conf.save()
    earlier = _messages(store, 1, "cap", marketing=True)[0]
    member = earlier.member
    Message.objects.filter(pk=earlier.pk).update(
        status=MessageStatus.SENDING, sent_at=NOON - dt.timedelta(days=1), claim="a"
    )
    Message.objects.create(
        member=member,
        key="cap:interrupted",
        kind="campaign",
        marketing=True,
        channel=Channel.EMAIL,
        to=member.email,
        language="en",
        body="x",
        status=MessageStatus.SENDING,
        sent_at=NOON - dt.timedelta(days=2),
        claim="b",
    )
    offer = Message.objects.create(
        member=member,
        key="cap:offer",
        kind="campaign",
        marketing=True,
        channel=Channel.EMAIL,
        to=member.email,
        language="en",
        body="20% off",
    )

    result = messages_deliver_many(message_ids=[offer.pk], now=NOON)

    offer.refresh_from_db()
    assert (result.handed_over, result.suppressed) == (0, 1)
    assert offer.status == MessageStatus.SUPPRESSED
    assert offer.error == "Frequency cap: 2 marketing messages in the last 7 days"
    assert backend.seen == []
