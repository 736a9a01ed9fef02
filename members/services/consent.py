"""Marketing consent: the member's current consent per channel and its history."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from members.errors import InvalidInput
from members.models import Channel, ConsentEvent, Member, User


def consent_apply(
    member: Member, *, channel: str, granted: bool, source: str, at
) -> None:
    """Set the member's current consent for one channel (not saved)."""
    setattr(member, f"{channel}_consent", granted)
    setattr(member, f"{channel}_consent_at", at)
    setattr(member, f"{channel}_consent_source", source)


def consent_write(
    *,
    member: Member,
    channel: str,
    granted: bool,
    source: str,
    changed_by: User | None,
    at,
) -> None:
    """Set and save the member's consent for one channel, with its history row
    (enrolment and erasure write consent through here too)."""
    consent_apply(member, channel=channel, granted=granted, source=source, at=at)
    member.save(
        update_fields=[
            f"{channel}_consent",
            f"{channel}_consent_at",
            f"{channel}_consent_source",
        ]
    )
    ConsentEvent.objects.create(
        member=member,
        channel=channel,
        granted=granted,
        source=source,
        changed_by=changed_by,
        created_at=at,
    )


@transaction.atomic
def member_consent_set(
    *,
    member: Member,
    channel: str,
    granted: bool,
    source: str,
    changed_by: User | None = None,
) -> bool:
    """Set consent for one channel and keep the change in history.

    Returns True when something changed; setting the current value again writes nothing.
    """
    if channel not in Channel.values:
        raise InvalidInput(_("Unknown channel."), field="channel")
    if getattr(member, f"{channel}_consent") == granted:
        return False
    consent_write(
        member=member,
        channel=channel,
        granted=granted,
        source=source,
        changed_by=changed_by,
        at=timezone.now(),
    )
    return True
