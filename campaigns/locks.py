"""Row locks on campaigns' rows: events and sign-ups, complaints, segments,
campaigns and their chunks, messages. The order is in rewards/locks.py.

The `_claim` functions skip rows another transaction holds
(`SKIP LOCKED`), so two periodic jobs never take the same row and never wait.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from campaigns.events.selectors import events_reminder_due
from campaigns.models import (
    Campaign,
    CampaignChunk,
    CampaignStatus,
    Complaint,
    Event,
    EventRsvp,
    Message,
    MessageStatus,
    RunStatus,
    Segment,
    Survey,
)

# --- events --------------------------------------------------------------------------


def event_lock(*, event_id: int) -> Event:
    """The event row (with its store and tier), after the member's; raises Event.DoesNotExist."""
    return (
        Event.objects.select_for_update(of=("self",))
        .select_related("store", "min_tier")
        .get(pk=event_id)
    )


def event_rsvp_lock(
    *, event_id: int, member_id: int, statuses: Iterable[str] | None = None
) -> EventRsvp | None:
    """A member's sign-up to an event (in `statuses`, when given), or None; after the event's lock."""
    filters: dict[str, object] = {"event_id": event_id, "member_id": member_id}
    if statuses is not None:
        filters["status__in"] = statuses
    return EventRsvp.objects.select_for_update(of=("self",)).filter(**filters).first()


def event_reminder_due_claim(*, now: dt.datetime) -> Event | None:
    """The next event whose reminder is due that nobody holds (skip locked), alone."""
    return (
        events_reminder_due(now=now)
        .select_for_update(skip_locked=True, of=("self",))
        .select_related("store")
        .first()
    )


# --- complaints and segments -----------------------------------------------------------


def survey_lock(*, survey_id: int) -> Survey | None:
    """A survey row, or None; taken alone (while its first question is saved)."""
    return Survey.objects.select_for_update(of=("self",)).filter(pk=survey_id).first()


def complaint_lock(*, complaint_id: int) -> Complaint | None:
    """A complaint row (with its member), or None; taken alone."""
    return (
        Complaint.objects.select_for_update(of=("self",))
        .select_related("member")
        .filter(pk=complaint_id)
        .first()
    )


def segment_lock(*, segment_id: int) -> Segment:
    """A segment row, taken alone; raises Segment.DoesNotExist."""
    return Segment.objects.select_for_update().get(pk=segment_id)


# --- campaigns, runs and chunks --------------------------------------------------------


def campaign_lock(*, campaign_id: int) -> Campaign:
    """A campaign row, taken alone (run_finish: after its run's UPDATE); raises Campaign.DoesNotExist."""
    return Campaign.objects.select_for_update().get(pk=campaign_id)


def campaign_due_claim(*, now: dt.datetime) -> Campaign | None:
    """The scheduled campaign due first that nobody holds (skip locked), alone."""
    return (
        Campaign.objects.select_for_update(skip_locked=True)
        .filter(status=CampaignStatus.SCHEDULED, scheduled_at__lte=now)
        .order_by("scheduled_at", "pk")
        .first()
    )


def chunks_stale_claim(*, queued_before: dt.datetime, limit: int = 500) -> list[int]:
    """Pks of unfinished chunks of sending runs queued before `queued_before`,
    their rows and their runs' skip locked; taken alone."""
    return list(
        CampaignChunk.objects.select_for_update(skip_locked=True)
        .filter(
            run__status=RunStatus.SENDING,
            done_at__isnull=True,
            queued_at__lt=queued_before,
        )
        .values_list("pk", flat=True)[:limit]
    )


def chunk_lock(*, chunk_id: int) -> CampaignChunk | None:
    """A chunk row, or None; taken alone."""
    return CampaignChunk.objects.select_for_update().filter(pk=chunk_id).first()


# --- messages --------------------------------------------------------------------------


def messages_queued_lock(*, message_ids: list[int]) -> list[Message]:
    """These messages still queued, by pk; after their members' locks (members_lock)."""
    return list(
        Message.objects.select_for_update(of=("self",))
        .filter(pk__in=message_ids, status=MessageStatus.QUEUED)
        .order_by("pk")
    )


def messages_stuck_lock(*, sent_before: dt.datetime) -> list[tuple[int, str]]:
    """(pk, claim) of messages sending since before `sent_before`, by pk; taken alone."""
    return list(
        Message.objects.select_for_update(of=("self",))
        .filter(status=MessageStatus.SENDING, sent_at__lte=sent_before)
        .order_by("pk")
        .values_list("pk", "claim")
    )
