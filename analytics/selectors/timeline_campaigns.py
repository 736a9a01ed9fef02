"""Member 360 timeline sources for what the campaigns app records about a
member: complaints (filed, the thread's messages, status changes), survey
answers, and event sign-ups and check-ins. Each source is one bounded query
(`limit` rows, newest first); AnalyticsConfig.ready registers them."""

from __future__ import annotations

from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from analytics.selectors.member360 import (
    TimelineItem,
    admin_url,
    timeline_source_register,
)
from campaigns.models import (
    Complaint,
    ComplaintMessage,
    ComplaintSender,
    ComplaintStatus,
    EventRsvp,
    SurveyResponse,
)
from members.formatting import number_format
from members.models import AuditAction, Member, StaffAuditEvent

SNIPPET = 80


def _snippet(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= SNIPPET else text[: SNIPPET - 1] + "…"


@timeline_source_register
def complaints_source(member: Member, limit: int) -> list[TimelineItem]:
    """Complaints the member filed or a cashier logged for them."""
    rows = (
        Complaint.objects.filter(member_id=member.pk)
        .select_related("store")
        .order_by("-created_at", "-id")
    )
    return [
        TimelineItem(
            at=c.created_at,
            kind="complaint",
            label=_("Complaint"),
            title=_("Complaint #%(id)s: %(topic)s")
            % {"id": c.pk, "topic": c.get_topic_display()},
            detail=" · ".join(
                part
                for part in (
                    c.get_source_display(),
                    c.store.name if c.store else "",
                    c.get_status_display(),
                )
                if part
            ),
            url=admin_url("campaigns_complaint_change", c.pk),
        )
        for c in rows[:limit]
    ]


@timeline_source_register
def complaint_messages_source(member: Member, limit: int) -> list[TimelineItem]:
    """The messages of the member's complaints: theirs and staff replies."""
    rows = (
        ComplaintMessage.objects.filter(complaint__member_id=member.pk)
        .select_related("author")
        .order_by("-created_at", "-id")
    )
    items = []
    for m in rows[:limit]:
        staff = m.sender == ComplaintSender.STAFF
        items.append(
            TimelineItem(
                at=m.created_at,
                kind="complaint",
                label=_("Complaint reply") if staff else _("Complaint message"),
                title=_snippet(m.body),
                detail=(
                    _("To complaint #%(id)s, by %(author)s")
                    % {"id": m.complaint_id, "author": m.author or _("staff")}
                    if staff
                    else _("On complaint #%(id)s") % {"id": m.complaint_id}
                ),
                url=admin_url("campaigns_complaint_change", m.complaint_id),
            )
        )
    return items


@timeline_source_register
def complaint_status_source(member: Member, limit: int) -> list[TimelineItem]:
    """Status changes of the member's complaints, from the staff audit log."""
    labels = dict(ComplaintStatus.choices)
    rows = (
        StaffAuditEvent.objects.filter(
            member_id=member.pk, action=AuditAction.COMPLAINT_STATUS
        )
        .select_related("actor")
        .order_by("-created_at", "-id")
    )
    items = []
    for e in rows[:limit]:
        details = e.details or {}
        before = details.get("before", "")
        after = details.get("after", "")
        items.append(
            TimelineItem(
                at=e.created_at,
                kind="complaint",
                label=_("Complaint status"),
                title=_("Complaint #%(id)s: %(before)s → %(after)s")
                % {
                    "id": e.object_id,
                    "before": labels.get(before, before),
                    "after": labels.get(after, after),
                },
                detail=str(e.actor or ""),
                url=(
                    admin_url("campaigns_complaint_change", e.object_id)
                    if e.object_id
                    else ""
                ),
            )
        )
    return items


@timeline_source_register
def survey_answers_source(member: Member, limit: int) -> list[TimelineItem]:
    """The member's answers to NPS and satisfaction surveys."""
    rows = (
        SurveyResponse.objects.filter(member_id=member.pk)
        .select_related("survey", "store")
        .order_by("-created_at", "-id")
    )
    return [
        TimelineItem(
            at=r.created_at,
            kind="survey",
            label=_("Survey answer"),
            # A survey of questions only has no headline score.
            title=(
                _("%(survey)s: %(score)s of %(max)s")
                % {
                    "survey": r.survey.name,
                    "score": r.score,
                    "max": r.survey.score_max,
                }
                if r.score is not None
                else r.survey.name
            ),
            detail=" · ".join(
                part
                for part in (r.store.name if r.store else "", _snippet(r.comment))
                if part
            ),
            url=admin_url("campaigns_surveyresponse_change", r.pk),
        )
        for r in rows[:limit]
    ]


@timeline_source_register
def events_source(member: Member, limit: int) -> list[TimelineItem]:
    """Event sign-ups and check-ins. A sign-up row can give two items (the
    sign-up and the check-in), so rows are ordered by their latest one: the
    `limit` rows read hold the source's newest `limit` items."""
    rows = (
        EventRsvp.objects.filter(member_id=member.pk)
        .select_related("event")
        .annotate(_latest=Coalesce("checked_in_at", "queued_at"))
        .order_by("-_latest", "-id")
    )
    items = []
    for r in rows[:limit]:
        url = admin_url("campaigns_eventrsvp_change", r.pk)
        items.append(
            TimelineItem(
                at=r.queued_at,
                kind="event",
                label=_("Event walk-in") if r.walk_in else _("Event sign-up"),
                title=r.event.title,
                detail=r.get_status_display(),
                url=url,
            )
        )
        if r.checked_in_at:
            items.append(
                TimelineItem(
                    at=r.checked_in_at,
                    kind="event",
                    label=_("Event check-in"),
                    title=r.event.title,
                    detail=(
                        ngettext(
                            "%(points)s point for coming",
                            "%(points)s points for coming",
                            r.event.checkin_points,
                        )
                        % {"points": number_format(r.event.checkin_points)}
                        if r.event.checkin_points
                        else ""
                    ),
                    url=url,
                )
            )
    return items
