"""Churn reasons: what the members who churned in a period complained about and
the low scores they left with a comment. Read by the Churn reasons dashboard
(admin:analytics_churn) and its CSV export (table `churn_reasons`).

Churned in the period: the analytics definition (member_figures.churn_stats, no
purchase in settings.ANALYTICS_CHURN_DAYS days) with the day they became
churned inside the period, i.e. their last purchase up to the period's last
month fell in [period start − N days, period end − N days). With a store
filter, their purchases at that store; with a segment filter, the members in
that RFM segment now; with a saved segment (campaigns' Segment), the members
its conditions or list hold now (both may apply). Their complaints and survey comments count when given in
the REASON_WINDOW_DAYS days up to the period's end. What members said when
asked sits beside these (analytics.selectors.churn_asked)."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db.models import Count, Max, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from analytics.models import MemberMonthActivity, MemberRFM
from analytics.selectors.periods import Period
from campaigns.feedback.selectors import DETRACTOR_MAX
from campaigns.models import (
    Complaint,
    ComplaintTopic,
    Segment,
    SurveyKind,
    SurveyResponse,
)
from campaigns.segments.selectors import segment_members
from members.formatting import number_format

REASON_WINDOW_DAYS = 180
SATISFACTION_LOW_MAX = 2
COMMENTS_SHOWN = 20

DEFINITION = _(
    "Churned in the period: no purchase in %(days)s, the day they became "
    "churned falling in the period. Complaints and comments counted: those they "
    "gave in the %(window)s up to the period's end."
)

TOPIC_COLUMNS = [
    ("label", _("Complaint topic")),
    ("complaints", _("Complaints")),
    ("members", _("Churned members who complained")),
]


def segment_member_ids(segment: str):
    """A subquery of the ids of the members in an RFM segment now."""
    return MemberRFM.objects.filter(segment=segment).values("member_id")


def saved_segment_member_ids(saved: Segment):
    """A subquery of the ids of the members in a saved segment now."""
    return segment_members(saved).order_by().values("pk")


def churned_member_ids(
    period: Period,
    store_id: int | None = None,
    segment: str | None = None,
    *,
    saved: Segment | None = None,
):
    """A subquery of the ids of the members who churned in the period (not
    evaluated: it goes into the callers' WHERE … IN)."""
    days = settings.ANALYTICS_CHURN_DAYS
    qs = MemberMonthActivity.objects.filter(month__lte=period.last)
    if store_id:
        qs = qs.filter(store_id=store_id)
    if segment:
        qs = qs.filter(member_id__in=segment_member_ids(segment))
    if saved is not None:
        qs = qs.filter(member_id__in=saved_segment_member_ids(saved))
    return (
        qs.values("member_id")
        .annotate(last=Max("last_day"))
        .filter(
            last__gte=period.start - dt.timedelta(days=days),
            last__lt=period.end - dt.timedelta(days=days),
        )
        .values("member_id")
    )


def reason_window(period: Period) -> tuple[dt.datetime, dt.datetime]:
    tz = timezone.get_current_timezone()
    end = dt.datetime.combine(period.end + dt.timedelta(days=1), dt.time(), tzinfo=tz)
    return end - dt.timedelta(days=REASON_WINDOW_DAYS), end


def churn_complaint_topics(
    period: Period,
    store_id: int | None = None,
    segment: str | None = None,
    *,
    saved: Segment | None = None,
) -> list[dict]:
    """Complaints of the period's churned members by topic, most first: label,
    topic, complaints, members. One grouped query."""
    start, end = reason_window(period)
    rows = (
        Complaint.objects.filter(
            member_id__in=churned_member_ids(period, store_id, segment, saved=saved),
            created_at__gte=start,
            created_at__lt=end,
        )
        .values("topic")
        .annotate(complaints=Count("id"), members=Count("member_id", distinct=True))
        .order_by("-complaints", "topic")
    )
    labels = dict(ComplaintTopic.choices)
    return [{**r, "label": str(labels.get(r["topic"], r["topic"]))} for r in rows]


def churn_low_comments(
    period: Period,
    store_id: int | None = None,
    segment: str | None = None,
    *,
    saved: Segment | None = None,
) -> list:
    """The period's churned members' survey answers with a comment and a low
    score (NPS ≤ 6, satisfaction ≤ 2), newest first, at most COMMENTS_SHOWN.
    One query (member and survey joined)."""
    start, end = reason_window(period)
    low = Q(survey__kind=SurveyKind.NPS, score__lte=DETRACTOR_MAX) | Q(
        survey__kind=SurveyKind.SATISFACTION, score__lte=SATISFACTION_LOW_MAX
    )
    return list(
        SurveyResponse.objects.filter(
            low,
            member_id__in=churned_member_ids(period, store_id, segment, saved=saved),
            created_at__gte=start,
            created_at__lt=end,
        )
        .exclude(comment="")
        .select_related("member", "survey")
        .order_by("-created_at", "-id")[:COMMENTS_SHOWN]
    )


def definition_text() -> str:
    return str(DEFINITION) % {
        "days": days_text(settings.ANALYTICS_CHURN_DAYS),
        "window": days_text(REASON_WINDOW_DAYS),
    }


def days_text(n: int) -> str:
    return ngettext("%(n)s day", "%(n)s days", n) % {"n": number_format(n)}
