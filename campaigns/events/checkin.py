"""Check-in at the counter: a member who signed up is marked as come, anyone
else let in as a walk-in while a place is left, and the event's points given
once. Locks the event row (campaigns.events.services.event_locked) first, then
the member's points account through rewards.services."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from campaigns.events.selectors import member_tier_get, tier_allows
from campaigns.events.services import event_locked
from campaigns.locks import event_rsvp_lock
from campaigns.models import Event, EventRsvp, EventStatus, RsvpStatus
from campaigns.reasons import EVENT_CHECKIN
from members.audit import StaffActor, staff_audit_record
from members.errors import Conflict
from members.models import Member
from rewards.models import LedgerEntry
from rewards.reasons import system_reason
from rewards.services import points_bonus_grant

# Check-in at the counter is open from a little before the start until some
# hours after the end (staff may record a busy evening afterwards).
CHECKIN_OPENS_BEFORE = dt.timedelta(hours=2)
CHECKIN_CLOSES_AFTER = dt.timedelta(hours=12)

AUDIT_EVENT_CHECKIN = "event.checkin"  # a StaffAuditEvent action


@dataclass(frozen=True)
class CheckinResult:
    rsvp: EventRsvp
    entry: LedgerEntry | None  # the points given (None: the event gives none)
    already: bool  # checked in before: nothing new was written
    walk_in: bool


def event_checkin(
    *,
    event_id: int,
    member: Member,
    actor: StaffActor,
    now: dt.datetime | None = None,
) -> CheckinResult:
    """Check a member in at the event (the Counter right is the caller's check).

    A member who signed up is marked as come; anyone else is let in as a
    walk-in when a place is left and their tier reaches the event's (a member
    on the waitlist takes a free place). The event's points are given through
    rewards.services.points_bonus_grant with the idempotency key
    `event-checkin:<event>:<member>`, so checking in twice earns once. Writes a
    staff audit row (`event.checkin`). Locks the event row, then the member's
    points account. Queues nothing.
    """
    now = now or timezone.now()
    with transaction.atomic(durable=True):
        event = event_locked(event_id)
        if event.status != EventStatus.PUBLISHED:
            raise Conflict(
                _("“%(title)s” is not taking place: no check-in.")
                % {"title": event.title},
                field="event",
            )
        if not (
            event.starts_at - CHECKIN_OPENS_BEFORE
            <= now
            <= event.ends_at + CHECKIN_CLOSES_AFTER
        ):
            raise Conflict(
                _("Check-in for “%(title)s” is open on the day of the event only.")
                % {"title": event.title},
                field="event",
            )
        rsvp = event_rsvp_lock(event_id=event.pk, member_id=member.pk)
        if rsvp is not None and rsvp.checked_in_at is not None:
            entry = LedgerEntry.objects.filter(
                idempotency_key=_checkin_key(event, member)
            ).first()
            return CheckinResult(rsvp=rsvp, entry=entry, already=True, walk_in=False)
        walk_in = rsvp is None or rsvp.status != RsvpStatus.GOING
        if walk_in:
            if not tier_allows(
                min_tier=event.min_tier, tier=member_tier_get(member_id=member.pk)
            ):
                raise Conflict(
                    _("“%(title)s” is for %(tier)s members only.")
                    % {"title": event.title, "tier": event.min_tier.name},
                    field="member",
                )
            if event.going_count >= event.capacity:
                raise Conflict(
                    _("“%(title)s” is full: no place is left for a walk-in.")
                    % {"title": event.title},
                    field="member",
                )
            event.going_count += 1
            event.save(update_fields=["going_count", "updated_at"])
            if rsvp is None:
                rsvp = EventRsvp(event=event, member=member, queued_at=now)
            rsvp.status = RsvpStatus.GOING
            rsvp.walk_in = True
        rsvp.checked_in_at = now
        rsvp.checked_in_by = actor.user
        rsvp.save()
        entry = None
        if event.checkin_points:
            entry = points_bonus_grant(
                member=member,
                points=event.checkin_points,
                reason=system_reason(
                    EVENT_CHECKIN, event_id=event.pk, event=event.title
                ),
                idempotency_key=_checkin_key(event, member),
            )
        staff_audit_record(
            actor=actor,
            action=AUDIT_EVENT_CHECKIN,
            member=member,
            obj=rsvp,
            details={
                "event": event.pk,
                "points": event.checkin_points,
                "walk_in": walk_in,
            },
        )
    return CheckinResult(rsvp=rsvp, entry=entry, already=False, walk_in=walk_in)


def _checkin_key(event: Event, member: Member) -> str:
    return f"event-checkin:{event.pk}:{member.pk}"
