"""Every write to events, sign-ups and members-only pages.

A sign-up, a cancellation and a check-in (campaigns.events.checkin) lock the
event row first (`event_locked`), then, for a check-in, the member's points account through
rewards.services; so places are counted by one writer at a time and
`going_count` never passes `capacity` (a check constraint backs it).
Messages to members go through campaigns.messaging.services.message_send only.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from campaigns.events.selectors import (
    HOLDING,
    event_rsvp_refusal,
    member_tier_get,
    rsvp_closes_at,
)
from campaigns.locks import event_lock, event_reminder_due_claim, event_rsvp_lock
from campaigns.messaging.services import message_send
from campaigns.models import (
    ContentPage,
    Event,
    EventRsvp,
    EventStatus,
    RsvpStatus,
)
from campaigns.queueing import task_queue
from members.audit import StaffActor, audited_delete
from members.errors import Conflict, InvalidInput, NotFound
from members.formatting import datetime_format, number_format
from members.models import Member

MESSAGE_KIND_REMINDER = "event-reminder"
MESSAGE_KIND_CANCELLED = "event-cancelled"
MESSAGE_KIND_PLACE = "event-place"
CANCELLED_NOTIFY_TASK = "campaigns.tasks.event_cancelled_notify"


def event_locked(event_id: int) -> Event:
    """The event, locked (campaigns.locks.event_lock); NotFound when there is none."""
    try:
        return event_lock(event_id=event_id)
    except Event.DoesNotExist:
        raise NotFound(_("There is no such event."), field="event") from None


def _when(event: Event) -> str:
    return datetime_format(timezone.localtime(event.starts_at))


# --- messages -------------------------------------------------------------------------


def _reminder_send(event: Event, member: Member) -> None:
    with translation.override(member.language):
        title = event.title
        message_send(
            member=member,
            key=f"event-reminder:{event.pk}",
            kind=MESSAGE_KIND_REMINDER,
            subject=_("Reminder: %(title)s") % {"title": title},
            body=_(
                "See you at “%(title)s” on %(when)s at %(store)s. "
                "If you cannot come, please cancel so someone else can take the place."
            )
            % {"title": title, "when": _when(event), "store": event.store.name},
        )


def _place_send(event: Event, rsvp: EventRsvp) -> None:
    member = rsvp.member
    with translation.override(member.language):
        title = event.title
        message_send(
            member=member,
            # One per stint on the waitlist: joining it again is a new wait.
            key=f"event-place:{event.pk}:{int(rsvp.queued_at.timestamp())}",
            kind=MESSAGE_KIND_PLACE,
            subject=_("A place opened up: %(title)s") % {"title": title},
            body=_(
                "A place opened up at “%(title)s” on %(when)s at %(store)s, "
                "and it is yours: you're going."
            )
            % {"title": title, "when": _when(event), "store": event.store.name},
        )


def _cancelled_send(event: Event, member: Member) -> None:
    with translation.override(member.language):
        title = event.title
        message_send(
            member=member,
            key=f"event-cancelled:{event.pk}",
            kind=MESSAGE_KIND_CANCELLED,
            subject=_("Cancelled: %(title)s") % {"title": title},
            body=_("We are sorry: “%(title)s” on %(when)s at %(store)s is cancelled.")
            % {"title": title, "when": _when(event), "store": event.store.name},
        )


# --- staff: events and pages ----------------------------------------------------------


def event_save(*, event: Event, actor=None) -> Event:
    """Create or change an event (admin, seed data).

    Validates the times and that the places still hold everyone going; a
    cancelled event stays cancelled, and a published event with sign-ups
    cannot go back to draft (cancel it instead). Saving it as cancelled
    cancels it (see event_cancel). Locks the existing row; queues the
    cancellation notices after commit.
    """
    if event.ends_at <= event.starts_at:
        raise InvalidInput(_("The event must end after it starts."), field="ends_at")
    if (
        event.rsvp_opens_at
        and event.rsvp_closes_at
        and event.rsvp_closes_at <= event.rsvp_opens_at
    ):
        raise InvalidInput(
            _("Sign-up must close after it opens."), field="rsvp_closes_at"
        )
    if event.rsvp_closes_at and event.rsvp_closes_at > event.ends_at:
        raise InvalidInput(
            _("Sign-up must close by the end of the event."), field="rsvp_closes_at"
        )
    event.full_clean(exclude=["remind_at", "going_count"])
    event.remind_at = event.starts_at - dt.timedelta(hours=event.reminder_hours)
    with transaction.atomic():
        if event.pk is None:
            if event.status == EventStatus.CANCELLED:
                raise InvalidInput(
                    _("A new event cannot start out cancelled."), field="status"
                )
            event.going_count = 0
            if actor is not None and getattr(actor, "is_authenticated", False):
                event.created_by = actor
            event.save()
            return event
        current = event_locked(event.pk)
        if current.status == EventStatus.CANCELLED:
            raise Conflict(
                _("A cancelled event stays cancelled; create a new one."),
                field="status",
            )
        held = EventRsvp.objects.filter(event=current, status__in=HOLDING).exists()
        if event.status == EventStatus.DRAFT and held:
            raise Conflict(
                _(
                    "Members have signed up for this event: it cannot go back to "
                    "draft. Cancel it instead."
                ),
                field="status",
            )
        if event.capacity < current.going_count:
            raise Conflict(
                ngettext(
                    "%(going)s member is going: the places cannot be fewer than that.",
                    "%(going)s members are going: the places cannot be fewer than that.",
                    current.going_count,
                )
                % {"going": number_format(current.going_count)},
                field="capacity",
            )
        # Counted under the lock, not what the form had when it was shown.
        event.going_count = current.going_count
        event.reminders_sent_at = current.reminders_sent_at
        cancelling = event.status == EventStatus.CANCELLED
        if cancelling:
            event.cancelled_at = timezone.now()
        event.save()
        if cancelling:
            _cancel_notices_queue(event.pk)
        else:
            _waitlist_promote(event, now=timezone.now())
    return event


def event_cancel(*, event_id: int) -> Event:
    """Cancel an event: sign-ups stay as they are (the list shows who was coming)
    and everyone going or waiting gets a cancellation notice. Locks the event;
    queues `campaigns.tasks.event_cancelled_notify` after commit. Cancelling
    twice changes nothing and sends nothing more."""
    with transaction.atomic():
        event = event_locked(event_id)
        if event.status == EventStatus.CANCELLED:
            return event
        event.status = EventStatus.CANCELLED
        event.cancelled_at = timezone.now()
        event.save(update_fields=["status", "cancelled_at", "updated_at"])
        _cancel_notices_queue(event.pk)
    return event


def _cancel_notices_queue(event_id: int) -> None:
    transaction.on_commit(lambda: task_queue(CANCELLED_NOTIFY_TASK, event_id))


def event_cancelled_notify(*, event_id: int) -> int:
    """Send the cancellation notice (key `event-cancelled:<event>`) to everyone who
    was going or waiting. Attendees are read in one query; message_send makes a
    second run send nothing. Returns the number of members written to."""
    event = (
        Event.objects.select_related("store")
        .filter(pk=event_id, status=EventStatus.CANCELLED)
        .first()
    )
    if event is None:
        return 0
    rsvps = EventRsvp.objects.filter(event=event, status__in=HOLDING).select_related(
        "member"
    )
    count = 0
    for rsvp in rsvps:
        _cancelled_send(event, rsvp.member)
        count += 1
    return count


def content_page_save(*, page: ContentPage) -> ContentPage:
    """Create or change a members-only page or offer (admin, seed data). Validates
    and writes the row. Locks and queues nothing."""
    if (
        page.published_from
        and page.published_until
        and page.published_until <= page.published_from
    ):
        raise InvalidInput(
            _("“Published until” must be after “published from”."),
            field="published_until",
        )
    page.full_clean()
    page.save()
    return page


def content_page_delete(*, page: ContentPage, actor: StaffActor | None = None) -> None:
    """Delete a members-only page or offer, with the audit row of `actor`.
    Locks and queues nothing."""
    audited_delete(obj=page, actor=actor)


# --- members: sign-up and cancel -------------------------------------------------------


def event_rsvp(
    *,
    member: Member,
    event_id: int,
    waitlist: bool = False,
    now: dt.datetime | None = None,
) -> EventRsvp:
    """Sign `member` up for an event: a place if one is left; when none is,
    a place on the waitlist if `waitlist`, else Conflict ("full").

    Refuses (Conflict, with the reason) a cancelled, unpublished or closed event
    and a member below the event's tier. Signing up again while going returns
    the same sign-up. Locks the event row, so concurrent sign-ups take places
    one at a time. Sends the reminder at once (after commit) when reminders for
    the event have already gone out.
    """
    now = now or timezone.now()
    with transaction.atomic(durable=True):
        event = event_locked(event_id)
        rsvp = EventRsvp.objects.filter(event=event, member=member).first()
        if rsvp is not None and (
            rsvp.status == RsvpStatus.GOING
            or (rsvp.status == RsvpStatus.WAITLIST and waitlist)
        ):
            return rsvp
        refusal = event_rsvp_refusal(
            event=event, tier=member_tier_get(member_id=member.pk), now=now
        )
        if refusal:
            raise Conflict(refusal, field="event")
        if event.going_count >= event.capacity:
            if not waitlist:
                raise Conflict(
                    _("“%(title)s” is full: no places are left.")
                    % {"title": event.title},
                    field="event",
                )
            status = RsvpStatus.WAITLIST
        else:
            status = RsvpStatus.GOING
            event.going_count += 1
            event.save(update_fields=["going_count", "updated_at"])
        if rsvp is None:
            rsvp = EventRsvp(event=event, member=member)
        if rsvp.status != RsvpStatus.WAITLIST:
            rsvp.queued_at = now  # keeps a waiting member's place in the queue
        rsvp.status = status
        rsvp.walk_in = False
        rsvp.save()
        if status == RsvpStatus.GOING and event.reminders_sent_at is not None:
            _reminder_send(event, member)
    return rsvp


def event_rsvp_cancel(
    *, member: Member, event_id: int, now: dt.datetime | None = None
) -> EventRsvp:
    """Cancel the member's own sign-up (a place or a waitlist place) before the
    event starts. The place goes to the first member on the waitlist, who is
    told so. Locks the event row; the message leaves after commit."""
    now = now or timezone.now()
    with transaction.atomic(durable=True):
        event = event_locked(event_id)
        rsvp = event_rsvp_lock(event_id=event.pk, member_id=member.pk, statuses=HOLDING)
        if rsvp is None:
            raise NotFound(
                _("You are not signed up for “%(title)s”.") % {"title": event.title},
                field="event",
            )
        if rsvp.checked_in_at is not None:
            raise Conflict(
                _("You were already checked in at “%(title)s”.")
                % {"title": event.title},
                field="event",
            )
        if now >= event.starts_at:
            raise Conflict(
                _("“%(title)s” has started: the sign-up can no longer be cancelled.")
                % {"title": event.title},
                field="event",
            )
        was_going = rsvp.status == RsvpStatus.GOING
        rsvp.status = RsvpStatus.CANCELLED
        rsvp.save(update_fields=["status", "updated_at"])
        if was_going:
            event.going_count -= 1
            event.save(update_fields=["going_count", "updated_at"])
            _waitlist_promote(event, now=now)
    return rsvp


def _waitlist_promote(event: Event, *, now: dt.datetime) -> list[EventRsvp]:
    """Give free places to the waitlist in order. The event must be locked."""
    if event.status != EventStatus.PUBLISHED or now >= rsvp_closes_at(event):
        return []
    free = event.capacity - event.going_count
    if free <= 0:
        return []
    promoted = list(
        EventRsvp.objects.filter(event=event, status=RsvpStatus.WAITLIST)
        .select_related("member")
        .order_by("queued_at", "pk")[:free]
    )
    for rsvp in promoted:
        rsvp.status = RsvpStatus.GOING
        rsvp.save(update_fields=["status", "updated_at"])
        _place_send(event, rsvp)
        if event.reminders_sent_at is not None:
            _reminder_send(event, rsvp.member)
    if promoted:
        event.going_count += len(promoted)
        event.save(update_fields=["going_count", "updated_at"])
    return promoted


# --- reminders ------------------------------------------------------------------------


def event_reminders_send_due(*, now: dt.datetime | None = None) -> int:
    """Send the reminder (key `event-reminder:<event>`) to everyone going to each
    event whose reminder time has come. Each event is claimed in its own
    transaction with `select_for_update(skip_locked=True)` and marked sent, so a
    second run, or two at once, remind nobody twice; its members are read in
    one query. Periodic (beat). Returns the number of events reminded."""
    now = now or timezone.now()
    done = 0
    while True:
        with transaction.atomic():
            event = event_reminder_due_claim(now=now)
            if event is None:
                return done
            event.reminders_sent_at = now
            event.save(update_fields=["reminders_sent_at", "updated_at"])
            for rsvp in EventRsvp.objects.filter(
                event=event, status=RsvpStatus.GOING
            ).select_related("member"):
                _reminder_send(event, rsvp.member)
        done += 1
