"""Withdrawing marketing consent from a message: the unsubscribe link, the
one-click POST of mail clients (RFC 8058), a spam complaint, an SMS "STOP".

Every change goes through members.services.member_consent_set with source
"unsubscribe", so the member's consent history (ConsentEvent) keeps it.
"""

from __future__ import annotations

import re

from members.errors import InvalidInput
from members.models import Channel, ConsentSource, LeaveTrigger, Member
from members.phones import phone_normalize
from members.selectors import leave_reasons_offered
from members.services import leave_reason_path, member_consent_set

# Replies that mean "no more SMS" (gateways pass them through as they came).
STOP_WORDS = re.compile(
    r"^\s*(stop|stopall|stop all|unsubscribe|cancel|end|quit|стоп|stopp)\b",
    re.IGNORECASE,
)


def unsubscribe_from_message(*, message) -> bool:
    """Withdraw the member's marketing consent for the message's channel, and
    for the channel that carried it instead (a Viber message sent by SMS:
    campaigns.messaging.viber). True when it changed (a second click changes
    nothing). Each consent write is one transaction (member_consent_set);
    locks nothing else."""
    changed = False
    for channel in dict.fromkeys([message.channel, message.fallback_channel]):
        if channel:
            changed |= member_consent_set(
                member=message.member,
                channel=channel,
                granted=False,
                source=ConsentSource.UNSUBSCRIBE,
            )
    return changed


def leave_question_for_unsubscribe(*, message) -> dict:
    """What the unsubscribe page needs to ask "why are you leaving?" (the
    address the answer posts to and the reasons) once the member has no
    marketing consent left on any channel; {} while some channel is still on.
    Reads only."""
    member = Member.objects.filter(pk=message.member_id).first()
    if member is None or any(getattr(member, f"{c}_consent") for c in Channel.values):
        return {}
    return {
        "leave_url": leave_reason_path(
            member=member,
            trigger=LeaveTrigger.UNSUBSCRIBED,
            key=f"message:{message.pk}",
        ),
        "reasons": leave_reasons_offered(),
    }


def sms_stop_record(*, phone: str, text: str) -> Member | None:
    """An inbound SMS from the gateway: a STOP reply withdraws SMS consent of the
    member with that phone. Returns the member when it was a STOP from one."""
    if not STOP_WORDS.match(text or ""):
        return None
    try:
        normalized = phone_normalize(phone)
    except InvalidInput:  # a number we cannot read is no member of ours
        return None
    member = Member.objects.filter(phone=normalized).first()
    if member is None:
        return None
    member_consent_set(
        member=member,
        channel=Channel.SMS,
        granted=False,
        source=ConsentSource.UNSUBSCRIBE,
    )
    return member
