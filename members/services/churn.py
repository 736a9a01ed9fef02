"""Why members leave, asked: the answer a member gives (optional, never
blocking the leaving itself) and the signed link to the question.

The question is asked by a link: `leave_reason_link` signs (member, trigger,
occasion key) with settings.SECRET_KEY, so the page needs no login (an erased
member has none, an unsubscribed one may never have had one) and nobody can
answer for someone else. The same link answered again changes that answer
(one row per member, trigger and occasion), so a double tap or a retried POST
adds nothing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.core import signing
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from members.audit import audited_save
from members.defaults import LEAVE_REASONS
from members.errors import InvalidInput
from members.links import absolute_url
from members.locks import member_lock_or_none
from members.models import (
    LeaveAnswer,
    LeaveReason,
    LeaveTrigger,
    Member,
    MemberErasure,
)

LEAVE_LINK_SALT = "members.leave_reason"
LEAVE_LINK_MAX_AGE = 180 * 24 * 3600  # a win-back email may be read months later
TEXT_MAX = 1000


@dataclass(frozen=True)
class LeaveOccasion:
    """What a signed leaving link stands for."""

    member_id: int
    trigger: str
    key: str


def leave_reason_token(*, member: Member, trigger: str, key: str) -> str:
    if trigger not in LeaveTrigger.values:
        raise InvalidInput(_("Unknown leaving trigger."), field="trigger")
    return signing.dumps(
        {"m": member.pk, "t": trigger, "k": key}, salt=LEAVE_LINK_SALT, compress=True
    )


def leave_reason_path(*, member: Member, trigger: str, key: str) -> str:
    """The site path of the question for this occasion (no login needed): for
    redirects and forms of our own pages."""
    token = leave_reason_token(member=member, trigger=trigger, key=key)
    return reverse("portal:leave_reason", args=[token])


def leave_reason_link(*, member: Member, trigger: str, key: str) -> str:
    """The absolute address of the question, for messages."""
    return absolute_url(leave_reason_path(member=member, trigger=trigger, key=key))


def leave_occasion_read(token: str) -> LeaveOccasion | None:
    """The occasion a link stands for, or None when it is forged, damaged or
    older than LEAVE_LINK_MAX_AGE."""
    try:
        data = signing.loads(token, salt=LEAVE_LINK_SALT, max_age=LEAVE_LINK_MAX_AGE)
        occasion = LeaveOccasion(
            member_id=int(data["m"]), trigger=str(data["t"]), key=str(data["k"])
        )
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        return None
    if occasion.trigger not in LeaveTrigger.values:
        return None
    return occasion


def leave_reason_record(
    *,
    member: Member,
    trigger: str,
    reason: LeaveReason | str,
    text: str = "",
    key: str,
    answered_at: dt.datetime | None = None,
) -> LeaveAnswer:
    """Record (or change) the member's answer for one leaving occasion.

    `reason` is a LeaveReason or its code and must be offered; `text` is kept
    only for a reason that asks for one ("Other"), stripped and at most
    TEXT_MAX characters. The store is the member's home store now. An erased
    member's answer to anything but the deletion question keeps no text (their
    words could name them). The same member, trigger and key give the same row:
    the same answer writes nothing, another answer replaces it. `answered_at`
    (default now) is for seeding and imports. Locks the member row; queues
    nothing."""
    if trigger not in LeaveTrigger.values:
        raise InvalidInput(_("Unknown leaving trigger."), field="trigger")
    if not key or len(key) > 80:
        raise InvalidInput(_("Unknown leaving occasion."), field="key")
    if isinstance(reason, str):
        reason = LeaveReason.objects.filter(code=reason, active=True).first()
    if reason is None or not reason.active:
        raise InvalidInput(_("Choose one of the reasons offered."), field="reason")
    text = (text or "").strip()
    if len(text) > TEXT_MAX:
        raise InvalidInput(
            _("Write at most %(n)s characters.") % {"n": TEXT_MAX}, field="text"
        )
    if not reason.asks_text:
        text = ""
    with transaction.atomic(durable=True):
        locked = member_lock_or_none(member_id=member.pk)
        if locked is None:
            raise InvalidInput(_("This member does not exist."), field="member")
        if (
            trigger != LeaveTrigger.DELETED
            and MemberErasure.objects.filter(member=locked).exists()
        ):
            text = ""
        answer = LeaveAnswer.objects.filter(
            member=locked, trigger=trigger, key=key
        ).first()
        if answer is None:
            return LeaveAnswer.objects.create(
                member=locked,
                trigger=trigger,
                key=key,
                reason=reason,
                text=text,
                store_id=locked.home_store_id,
                answered_at=answered_at or timezone.now(),
            )
        if answer.reason_id != reason.pk or answer.text != text:
            answer.reason = reason
            answer.text = text
            answer.answered_at = answered_at or timezone.now()
            answer.save(update_fields=["reason", "text", "answered_at"])
        return answer


def leave_reason_save(*, reason: LeaveReason, actor=None) -> LeaveReason:
    """Add or change a leaving reason (admin, seed data), validated, with the
    staff audit row. Locks nothing; queues nothing."""
    return audited_save(obj=reason, actor=actor)


def leave_reasons_ensure() -> int:
    """Write the default leaving reasons (members.defaults) that are missing by
    code; returns how many were written. Leaves existing rows alone."""
    written = 0
    for position, (code, asks_text, uk, ru, ro, en) in enumerate(
        LEAVE_REASONS, start=1
    ):
        _reason, created = LeaveReason.objects.get_or_create(
            code=code,
            defaults={
                "asks_text": asks_text,
                "position": position * 10,
                "name_uk": uk,
                "name_ru": ru,
                "name_ro": ro,
                "name_en": en,
            },
        )
        written += created
    return written
