"""Reads of events, sign-ups and members-only pages shared by the customer pages,
the admin, the services and the tasks."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from campaigns.models import (
    ContentPage,
    Event,
    EventRsvp,
    EventStatus,
    RsvpStatus,
)
from members.formatting import datetime_format
from rewards.models import PointsAccount, Tier

EVENTS_SHOWN = 50
PAGES_SHOWN = 50
HOLDING = (RsvpStatus.GOING, RsvpStatus.WAITLIST)


def member_tier_get(*, member_id: int) -> Tier | None:
    """The member's current tier (None: no tier yet). One query."""
    account = (
        PointsAccount.objects.select_related("tier")
        .filter(member_id=member_id)
        .only("tier")
        .first()
    )
    return account.tier if account is not None else None


def tier_allows(*, min_tier: Tier | None, tier: Tier | None) -> bool:
    """Whether a member of `tier` reaches `min_tier` (None: everyone does)."""
    if min_tier is None:
        return True
    return tier is not None and tier.rank >= min_tier.rank


def _local(moment: dt.datetime) -> str:
    return datetime_format(timezone.localtime(moment))


def rsvp_closes_at(event: Event) -> dt.datetime:
    return event.rsvp_closes_at or event.starts_at


def event_rsvp_refusal(
    *, event: Event, tier: Tier | None, now: dt.datetime
) -> str | None:
    """Why a member of `tier` cannot sign up for `event` now, or None when they
    can (a full event is not a refusal here: the caller offers the waitlist)."""
    if event.status == EventStatus.CANCELLED:
        return _("“%(title)s” was cancelled.") % {"title": event.title}
    if event.status != EventStatus.PUBLISHED:
        return _("“%(title)s” is not open for sign-up.") % {"title": event.title}
    if not tier_allows(min_tier=event.min_tier, tier=tier):
        return _("“%(title)s” is for %(tier)s members only.") % {
            "title": event.title,
            "tier": event.min_tier.name,
        }
    if event.rsvp_opens_at and now < event.rsvp_opens_at:
        return _("Sign-up for “%(title)s” opens on %(when)s.") % {
            "title": event.title,
            "when": _local(event.rsvp_opens_at),
        }
    if now >= rsvp_closes_at(event):
        return _("Sign-up for “%(title)s” has closed.") % {"title": event.title}
    return None


@dataclass(frozen=True)
class EventRow:
    """One event as a member sees it in the list, with what they can do."""

    event: Event
    my_status: str | None
    checked_in: bool
    refusal: str | None
    tier_only: str | None  # "Gold" when the member is below the event's tier
    can_rsvp: bool
    can_waitlist: bool
    can_cancel: bool

    @property
    def going(self) -> bool:
        return self.my_status == RsvpStatus.GOING

    @property
    def waitlisted(self) -> bool:
        return self.my_status == RsvpStatus.WAITLIST


def events_for_member(*, member, now: dt.datetime | None = None) -> list[EventRow]:
    """Published events that have not ended (and cancelled ones the member had
    signed up for), soonest first, each with the member's own sign-up. Three
    queries whatever the number of events (tier, events with their store and
    tier and the member's status, check-in times)."""
    now = now or timezone.now()
    tier = member_tier_get(member_id=member.pk)
    mine = EventRsvp.objects.filter(event=OuterRef("pk"), member=member)
    events = list(
        Event.objects.filter(ends_at__gt=now)
        .filter(
            Q(status=EventStatus.PUBLISHED)
            | Q(
                Exists(mine.filter(status__in=HOLDING)),
                status=EventStatus.CANCELLED,
            )
        )
        .select_related("store", "min_tier")
        .annotate(
            my_status=Subquery(mine.values("status")[:1]),
            my_checked_in=Subquery(mine.values("checked_in_at")[:1]),
        )
        .order_by("starts_at", "pk")[:EVENTS_SHOWN]
    )
    rows = []
    for event in events:
        refusal = event_rsvp_refusal(event=event, tier=tier, now=now)
        holding = event.my_status in HOLDING
        open_ = refusal is None and not holding
        tier_ok = tier_allows(min_tier=event.min_tier, tier=tier)
        rows.append(
            EventRow(
                event=event,
                my_status=event.my_status,
                checked_in=event.my_checked_in is not None,
                refusal=refusal,
                tier_only=None if tier_ok else event.min_tier.name,
                can_rsvp=open_ and event.places_left > 0,
                can_waitlist=open_ and event.places_left == 0,
                can_cancel=holding
                and event.status == EventStatus.PUBLISHED
                and event.my_checked_in is None
                and now < event.starts_at,
            )
        )
    return rows


def event_attendees(*, event: Event) -> QuerySet[EventRsvp]:
    """Everyone who holds a place or waits for one, the going first, in sign-up order."""
    return (
        EventRsvp.objects.filter(event=event, status__in=HOLDING)
        .select_related("member", "checked_in_by")
        .order_by("status", "queued_at", "pk")  # "going" < "waitlist"
    )


def event_counts(*, event: Event) -> dict[str, int]:
    """going, waitlist, checked_in, walk_ins and cancelled for one event, in one query."""
    return EventRsvp.objects.filter(event=event).aggregate(
        going=Count("pk", filter=Q(status=RsvpStatus.GOING)),
        waitlist=Count("pk", filter=Q(status=RsvpStatus.WAITLIST)),
        checked_in=Count("pk", filter=Q(checked_in_at__isnull=False)),
        walk_ins=Count("pk", filter=Q(walk_in=True, status=RsvpStatus.GOING)),
        cancelled=Count("pk", filter=Q(status=RsvpStatus.CANCELLED)),
    )


def events_reminder_due(*, now: dt.datetime) -> QuerySet[Event]:
    """Published events whose reminder time has come and that have not started."""
    return Event.objects.filter(
        status=EventStatus.PUBLISHED,
        reminders_sent_at__isnull=True,
        remind_at__lte=now,
        starts_at__gt=now,
    ).order_by("remind_at", "pk")


def _visible_q(*, tier: Tier | None, now: dt.datetime) -> Q:
    tier_q = Q(min_tier__isnull=True)
    if tier is not None:
        tier_q |= Q(min_tier__rank__lte=tier.rank)
    return (
        tier_q
        & Q(published_from__lte=now)
        & (Q(published_until__isnull=True) | Q(published_until__gt=now))
    )


def content_pages_for_member(
    *, member, now: dt.datetime | None = None
) -> QuerySet[ContentPage]:
    """The members-only pages and offers the member's tier reaches, published now,
    newest first. A page above the member's tier is simply not there."""
    now = now or timezone.now()
    tier = member_tier_get(member_id=member.pk)
    return (
        ContentPage.objects.filter(_visible_q(tier=tier, now=now))
        .select_related("min_tier")
        .order_by("-published_from", "pk")
    )


def content_page_get_for_member(
    *, member, slug: str, now: dt.datetime | None = None
) -> ContentPage | None:
    """The page if this member may read it now; None otherwise (the view says 404,
    so a page above the member's tier does not even admit it exists)."""
    return content_pages_for_member(member=member, now=now).filter(slug=slug).first()
