"""Sending one message to one member: the single way email and SMS leave.

Campaigns, journeys, complaint replies and event reminders all call
`message_send`; it writes the Message row (unique per member and purpose key)
and queues its delivery after commit.
"""

from __future__ import annotations

import logging

from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.utils import timezone

from campaigns.models import Message, MessageStatus
from members.models import Channel, Member
from members.sms import sms_send

log = logging.getLogger(__name__)


def _channel_for(member: Member, channel: str | None) -> str | None:
    if channel:
        return channel
    if member.email:
        return Channel.EMAIL
    return Channel.SMS if member.phone else None


def message_send(
    *,
    member: Member,
    key: str,
    kind: str,
    subject: str,
    body: str,
    channel: str | None = None,
    marketing: bool = False,
    campaign=None,
    variant=None,
    to: str | None = None,
) -> Message | None:
    """Write one message for `member` and deliver it after commit.

    `key` names the purpose; a second call with the same (member, key) returns
    the first message and sends nothing. `channel` None means the member's
    preferred channel. Returns None when the member has no address at all.
    Queues `campaigns.tasks.message_deliver` on commit. `campaign`/`variant`
    tag a campaign's message; `to` overrides the address (a campaign's test
    send to the staff user who asked for it).
    """
    existing = Message.objects.filter(member=member, key=key).first()
    if existing is not None:
        return existing
    chosen = _channel_for(member, channel)
    if chosen is None:
        return None
    to = to or (member.email if chosen == Channel.EMAIL else member.phone)
    try:
        with transaction.atomic():
            message = Message.objects.create(
                member=member,
                key=key,
                kind=kind,
                marketing=marketing,
                channel=chosen,
                to=to or "",
                language=member.language,
                subject=subject,
                body=body,
                campaign=campaign,
                variant=variant,
            )
    except IntegrityError:
        return Message.objects.get(member=member, key=key)
    if not to:
        _mark(message, MessageStatus.SUPPRESSED, "no address for this channel")
        return message

    from campaigns.tasks import message_deliver

    transaction.on_commit(lambda: message_deliver.delay(message.pk))
    return message


def _mark(message: Message, status: str, error: str = "") -> None:
    message.status = status
    message.error = error[:200]
    fields = ["status", "error"]
    if status == MessageStatus.SENT:
        message.sent_at = timezone.now()
        fields.append("sent_at")
    message.save(update_fields=fields)


def message_deliver(*, message_id: int) -> Message | None:
    """Hand a queued message to its backend once; a sent message is left alone.

    Claims the row with a conditional update so two workers never both send it.
    """
    claimed = Message.objects.filter(pk=message_id, status=MessageStatus.QUEUED).update(
        status=MessageStatus.SENT, sent_at=timezone.now()
    )
    if not claimed:
        return None
    message = Message.objects.get(pk=message_id)
    try:
        if message.channel == Channel.EMAIL:
            EmailMessage(message.subject, message.body, None, [message.to]).send()
        else:
            sms_send(to=message.to, text=message.body)
    except Exception as exc:  # noqa: BLE001 - any backend failure is recorded
        log.warning("message %s failed: %s", message_id, exc)
        _mark(message, MessageStatus.FAILED, str(exc) or exc.__class__.__name__)
    return message
