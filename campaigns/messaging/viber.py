"""The Viber channel: what a Message becomes on Viber, its hand-over (the
backend registered for Channel.VIBER from CampaignsConfig.ready()), and the
provider's delivery reports, with the SMS fallback.

What leaves: the message's text as written (a marketing one ends with its
signed opt-out link, as an SMS does) and, when the text holds a link, a button
whose URL is our tracked click link for its first link
(campaigns.messaging.tracking): a press records `clicked_at` and redirects.
There is no open pixel in Viber; a "Read" report from the provider records
`opened_at` instead.

The SMS fallback (VIBER_SMS_FALLBACK, on by default): when the provider reports
a Viber message not delivered (Undelivered, Expired, Rejected, ...), the same
Message is queued again with `fallback_channel` = sms and goes through
delivery once more: consent (Viber's, plus SMS consent for a marketing
message, checked on the report), quiet hours and the preferred hour hold it as
they would any message; the frequency cap counts it once (it is one row, and a
queued row is not counted); a failed SMS is retried like any other. Its
backend call then hands the SMS text (delivery.sms_text) to the SMS backend
with the message's token as reference; `provider_id` keeps the Viber id, so a
second identical report finds the row already falling back and changes nothing.
The message log shows the provider's report and "sent instead by: SMS".

Reports come two ways: the provider's callback to views.viber_webhook, and
`viber_statuses_poll` (every 10 minutes, beat), which asks TurboSMS's
`message/status.json` about the recent Viber messages without a final report.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.db.models.functions import Lower
from django.utils import timezone

from campaigns.messaging.backends.viber import viber_backend, viber_backend_send
from campaigns.messaging.delivery import sms_hand_over
from campaigns.messaging.services import MESSAGE_DELIVER_TASK
from campaigns.messaging.tracking import (
    click_url,
    links_find,
    message_failure_record,
    message_open_record,
    unsubscribe_url,
)
from campaigns.models import Message, MessageStatus
from campaigns.queueing import task_queue
from members.models import Channel

POLL_WINDOW = dt.timedelta(days=2)  # Viber gives up on a message within a day
POLL_BATCH = 100  # message ids per status request

# The provider's report statuses (TurboSMS's, compared in lower case).
DELIVERED = frozenset({"delivered", "read", "seen"})
READ = frozenset({"read", "seen"})
NOT_DELIVERED = frozenset(
    {
        "undelivered",
        "undeliverable",
        "not delivered",
        "expired",
        "rejected",
        "failed",
        "cancelled",
        "canceled",
    }
)


def viber_text(message: Message) -> str:
    """The Viber text: the body; a marketing message ends with its opt-out link."""
    if not message.marketing:
        return message.body
    from django.utils import translation
    from django.utils.translation import gettext

    with translation.override(message.language or settings.LANGUAGE_CODE):
        label = gettext("Opt out")
    return f"{message.body}\n{label}: {unsubscribe_url(message.token)}"


def viber_button(message: Message) -> tuple[str, str]:
    """(tracked URL, caption) of the button: the text's first link, or ("", "")."""
    if not links_find(message.body):
        return "", ""
    from django.utils import translation
    from django.utils.translation import gettext

    with translation.override(message.language or settings.LANGUAGE_CODE):
        caption = gettext("Open")
    return click_url(message.token, 0), caption


def viber_hand_over(message: Message) -> str:
    """The Viber channel's backend: the message to the Viber provider, or, when
    it is falling back, its SMS text to the SMS backend (keeping the Viber id)."""
    if message.fallback_channel == Channel.SMS:
        sms_hand_over(message)
        return message.provider_id
    url, caption = viber_button(message)
    return viber_backend_send(
        to=message.to,
        text=viber_text(message),
        button_url=url,
        button_caption=caption,
        reference=message.token,
    )


def viber_report_record(
    *, message: Message, status: str, at: dt.datetime | None = None
) -> bool:
    """Record the provider's delivery report `status` for a Viber message.

    Delivered or Read: kept on the message (`provider_status`); Read also
    records the open. Not delivered: with VIBER_SMS_FALLBACK, the message is
    queued again to go by SMS (see the module's docstring) unless it is a
    marketing message to a member without SMS consent, or has no phone; without
    the fallback (or in those cases) it fails with the provider's status. Any
    other status (Sent, In queue...) is kept and changes nothing else.
    One conditional UPDATE each, no lock: the first "not delivered" report of a
    sent message wins, a repeat changes nothing. Queues
    `campaigns.tasks.message_deliver` on commit for a fallback. True when the
    message changed.
    """
    at = at or timezone.now()
    reported = str(status).strip()[:32]
    key = reported.lower()
    ours = Message.objects.filter(
        pk=message.pk, channel=Channel.VIBER, fallback_channel=""
    )
    if key not in NOT_DELIVERED:
        changed = bool(
            ours.exclude(provider_status=reported).update(provider_status=reported)
        )
        if key in READ:
            changed |= message_open_record(message=message, at=at)
        return changed
    refusal = _fallback_refusal(message)
    if refusal:
        ours.update(provider_status=reported)
        return message_failure_record(
            message=message, reason=f"Viber report: {reported}; {refusal}", at=at
        )
    changed = ours.filter(status=MessageStatus.SENT).update(
        status=MessageStatus.QUEUED,
        fallback_channel=Channel.SMS,
        provider_status=reported,
        attempts=0,
        sent_at=None,
        send_after=None,
        claim="",
        error=f"Viber did not deliver it ({reported}); sending it by SMS"[:200],
    )
    if changed:
        transaction.on_commit(lambda: task_queue(MESSAGE_DELIVER_TASK, message.pk))
    return bool(changed)


def _fallback_refusal(message: Message) -> str:
    """Why a Viber message the provider did not deliver cannot go by SMS ("" if
    it can)."""
    if not settings.VIBER_SMS_FALLBACK:
        return "no SMS fallback (VIBER_SMS_FALLBACK is off)"
    if not message.to:
        return "no phone for the SMS fallback"
    if message.marketing and not message.member.sms_consent:
        return "no SMS marketing consent for the fallback"
    return ""


def viber_statuses_poll(*, now: dt.datetime | None = None, limit: int = 1000) -> int:
    """Ask the provider about the Viber messages sent in the last POLL_WINDOW
    that have no final report yet (neither delivered nor not), oldest first, at most
    `limit` of them, POLL_BATCH ids a request, and record each answer with
    `viber_report_record` (which may queue an SMS fallback). Nothing to do
    when the backend cannot tell (the outbox). Locks nothing. Returns how many
    messages changed."""
    backend = viber_backend()
    if not hasattr(backend, "statuses"):
        return 0
    now = now or timezone.now()
    # Delivered counts as final here: a later Read (the open) only comes by the
    # webhook, so the poll's requests go to the messages still in doubt.
    final = [*DELIVERED, *NOT_DELIVERED]
    pending = (
        Message.objects.filter(
            channel=Channel.VIBER,
            status=MessageStatus.SENT,
            fallback_channel="",
            sent_at__gte=now - POLL_WINDOW,
        )
        .exclude(provider_id="")
        .annotate(report=Lower("provider_status"))
        .exclude(report__in=final)
        .order_by("pk")
    )
    messages = {m.provider_id: m for m in pending[:limit]}
    ids = list(messages)
    changed = 0
    for start in range(0, len(ids), POLL_BATCH):
        for row in backend.statuses(ids[start : start + POLL_BATCH]):
            message = messages.get(str(row["message_id"]))
            if message is not None:
                changed += viber_report_record(message=message, status=row["status"])
    return changed
