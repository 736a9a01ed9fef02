"""Sending one message to one member: the single way email and SMS leave.

Campaigns, journeys, complaint replies, event reminders and one-time codes
all call `message_send`; it writes the Message row (unique per member and
purpose key) and queues its delivery after commit. `message_deliver` (one
message) and `messages_deliver_many` (a campaign chunk's), in
campaigns.messaging.delivery, decide at send time, under locks, whether a
marketing message may leave now (campaigns.messaging.rules: consent, quiet
hours, the member's preferred hour, frequency cap), then hand it to the email
or SMS backend once.

The pipeline (docs/architecture.md, "Delivery"):

    message_send ──on commit──▶ tasks.message_deliver ──▶ message_deliver (a batch of one)
    campaign chunk ─────────────────────────────────────▶ messages_deliver_many (200 a batch)
        │                                                  │ marketing: consent? quiet hours? preferred hour? cap?
        │                                                  ├─ suppressed (reason kept)
        │                                                  ├─ delayed: send_after ◀── tasks.messages_requeue_due (5 min)
        │                                                  └─ claimed (sending) ─▶ backend ─▶ sent / failed / retried
        messages_recover_interrupted (in the sweep): a crashed batch's first message
        still sending ─▶ failed "interrupted"; the rest of its claim ─▶ queued again
"""

from __future__ import annotations

import datetime as dt
import logging

from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.db.models.functions import Greatest
from django.utils import timezone

from campaigns.locks import messages_stuck_lock
from campaigns.models import DeliverySettings, Message, MessageStatus
from campaigns.queueing import task_queue
from members.audit import StaffActor, audited_save
from members.messages import member_address, member_channel
from members.models import Member
from members.singletons import singleton_ensure

log = logging.getLogger(__name__)

MESSAGE_DELIVER_TASK = "campaigns.tasks.message_deliver"
# A queued message nobody has picked up for this long lost its task (a worker
# died, the broker was down): the periodic sweep queues it again. The same age
# makes a message still sending look abandoned (messages_recover_interrupted;
# a live batch that is merely slow loses nothing twice, see there).
STUCK_AFTER = dt.timedelta(minutes=15)
INTERRUPTED = "Delivery interrupted: may or may not have been sent"


def delivery_settings_get() -> DeliverySettings:
    """The one row of delivery settings, created with its defaults when missing."""
    return singleton_ensure(DeliverySettings)


def delivery_settings_save(
    *, settings_row: DeliverySettings, actor: StaffActor | None = None
) -> DeliverySettings:
    """Save the delivery settings (frequency cap, quiet hours, attempts) as a
    Manager edited them: validated, with the audit row of `actor`. Locks
    nothing; queues nothing; applies to messages sent from now on."""
    return audited_save(obj=settings_row, actor=actor)


def message_send(
    *,
    member: Member,
    key: str,
    kind: str,
    subject: str,
    body: str,
    channel: str | None = None,
    marketing: bool = False,
    send_after: dt.datetime | None = None,
    campaign=None,
    variant=None,
    to: str | None = None,
) -> Message | None:
    """Write one message for `member` and deliver it after commit.

    `key` names the purpose; a second call with the same (member, key) returns
    the first message and sends nothing. The channel is
    `members.messages.member_channel`'s (the one rule: `channel` None means the
    member's preferred channel). `send_after` holds it back until then. `campaign` and
    `variant` tag a campaign's message; `to` overrides the address (a campaign's
    test send to the staff user who asked for it). Consent, quiet
    hours and the frequency cap are checked when it is delivered, not here.
    Returns None when the member has no address at all.
    Queues `campaigns.tasks.message_deliver` on commit; locks nothing.
    """
    existing = Message.objects.filter(member=member, key=key).first()
    if existing is not None:
        return existing
    chosen = member_channel(member, channel=channel, marketing=marketing)
    if chosen is None:
        return None
    to = to or member_address(member, chosen)
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
                send_after=send_after,
                campaign=campaign,
                variant=variant,
            )
    except IntegrityError:
        return Message.objects.get(member=member, key=key)
    if not to:
        _mark(message, MessageStatus.SUPPRESSED, "no address for this channel")
        return message

    transaction.on_commit(lambda: task_queue(MESSAGE_DELIVER_TASK, message.pk))
    return message


def _mark(message: Message, status: str, error: str = "") -> None:
    message.status = status
    message.error = error[:200]
    fields = ["status", "error"]
    if status == MessageStatus.SENT:
        message.sent_at = timezone.now()
        fields.append("sent_at")
    message.save(update_fields=fields)


# --- the periodic sweep -----------------------------------------------------------------


def messages_recover_interrupted(
    *, now: dt.datetime | None = None, older_than: dt.timedelta = STUCK_AFTER
) -> tuple[int, int]:
    """Settle the messages of delivery batches whose worker died while handing
    them over: those still sending whose claim is older than `older_than`.

    Per claim (one batch), the lowest pk still sending is the one that may have
    been in flight (`_hand_over_all` hands over in pk order and marks each one
    sent as soon as its backend returns): it becomes failed, "Delivery
    interrupted", and is never sent again, so delivery stays at most once.
    Every other message of the claim was certainly never handed over: it is
    queued again (no send_after, no sent_at, no claim) for the sweep to
    deliver, its claim's attempt given back. A message sending without a claim (none is written so) cannot be
    placed: it fails too. Locks the messages it settles, in pk order, in one
    transaction; queues nothing. Returns (requeued, failed).

    If the batch was alive after all (a backend call slower than `older_than`),
    nothing is sent twice: its next conditional UPDATE finds the claim gone and
    the batch stops (see `_hand_over_all`)."""
    now = now or timezone.now()
    with transaction.atomic():
        rows = messages_stuck_lock(sent_before=now - older_than)
        in_flight, never_left, seen = [], [], set()
        for pk, claim in rows:
            if claim and claim in seen:
                never_left.append(pk)
            else:
                seen.add(claim)
                in_flight.append(pk)
        if in_flight:
            Message.objects.filter(pk__in=in_flight).update(
                status=MessageStatus.FAILED, failed_at=now, error=INTERRUPTED
            )
        if never_left:
            Message.objects.filter(pk__in=never_left).update(
                status=MessageStatus.QUEUED,
                send_after=None,
                sent_at=None,
                claim="",
                # The claim counted an attempt no backend saw (never below 0,
                # whatever put a row in this state).
                attempts=Greatest(F("attempts") - 1, 0),
            )
    if in_flight:
        log.warning(
            "delivery interrupted: %s messages may or may not have been sent "
            "(failed), %s queued again",
            len(in_flight),
            len(never_left),
        )
    return len(never_left), len(in_flight)


def messages_requeue_due(*, now: dt.datetime | None = None, batch: int = 1000) -> int:
    """Queue delivery again for messages whose `send_after` has come (quiet hours
    over, a retry's delay passed) and for queued messages whose task was lost,
    after settling the batches a dead worker left sending
    (`messages_recover_interrupted`: the ones it queues again are among the
    lost ones). Reads ids in one query per batch, queues `tasks.message_deliver`
    for each; the deliver task's claim makes a double queueing harmless.
    Returns how many it queued."""
    now = now or timezone.now()
    messages_recover_interrupted(now=now)
    due = Message.objects.filter(status=MessageStatus.QUEUED).filter(
        Q(send_after__lte=now)
        | Q(send_after__isnull=True, created_at__lte=now - STUCK_AFTER)
    )
    ids = list(due.order_by("pk").values_list("pk", flat=True)[:batch])
    for pk in ids:
        task_queue(MESSAGE_DELIVER_TASK, pk)
    return len(ids)
