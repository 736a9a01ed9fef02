"""Churn reasons, asked: what members answered to "Why are you leaving?"
(members.LeaveAnswer: on deleting the account, unsubscribing from every
channel, cancelling the membership, and from the win-back message), shown on
the Churn reasons dashboard beside the inferred reasons (complaint topics of
the churned members, analytics.selectors.churn_reasons).

Answers count when given in the period. A store filter takes the answer's
store (the member's home store when they answered); a segment filter the
members in that RFM segment now; a saved segment (campaigns' Segment) the
members it holds now. The share who answered is of the members who
churned in the period (the analytics definition) and answered in the
REASON_WINDOW_DAYS days up to the period's end."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, Exists, OuterRef
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from analytics.models import RFMSegment
from analytics.selectors.churn_reasons import (
    churned_member_ids,
    reason_window,
    saved_segment_member_ids,
    segment_member_ids,
)
from analytics.selectors.periods import Period, day_bounds
from campaigns.models import Segment
from campaigns.segments.conditions import SegmentError
from campaigns.segments.selectors import segment_members
from members.models import LeaveAnswer, LeaveReason, LeaveTrigger, Member

ASKED_COLUMNS = [
    ("label", _("Reason given")),
    ("answers", _("Answers")),
    ("members", _("Members who gave it")),
    ("share", _("Share of answers, %")),
    *((t.value, t.label) for t in LeaveTrigger),
]

ASKED_DEFINITION = _(
    "Asked: the answers members gave in the period when they deleted the account, "
    "unsubscribed from every channel, cancelled the membership or answered the "
    "win-back message. Answered: the churned members of the period who answered "
    "in the same window as their complaints."
)


def segment_from_params(params) -> tuple[str | None, list[str]]:
    """(RFM segment or None, errors) from ?segment=…; an unknown one is
    ignored with a message naming the field."""
    raw = (params.get("segment") or "").strip()
    if not raw:
        return None, []
    if raw in RFMSegment.values:
        return raw, []
    return None, [
        gettext("“%(field)s”: choose a segment from the list.") % {"field": "segment"}
    ]


def saved_segment_from_params(params) -> tuple[Segment | None, list[str]]:
    """(saved segment or None, errors) from ?saved_segment=<id>; an id that is
    not a number or names no segment is ignored with a message naming the
    field."""
    raw = (params.get("saved_segment") or "").strip()
    if not raw:
        return None, []
    # ASCII digits short enough for a bigint: anything else names no segment
    # (a 30-digit id would be a database error on PostgreSQL, not a message).
    number = raw.isascii() and raw.isdigit() and len(raw) <= 18
    found = Segment.objects.filter(pk=int(raw)).first() if number else None
    if found is not None:
        try:
            segment_members(found)  # its conditions must still read
        except SegmentError as exc:
            return None, [
                gettext("“%(field)s”: this segment cannot be read: %(why)s")
                % {"field": "saved_segment", "why": exc}
            ]
        return found, []
    return None, [
        gettext("“%(field)s”: choose a saved segment from the list.")
        % {"field": "saved_segment"}
    ]


def _percent(part: int, whole: int) -> Decimal | None:
    if not whole:
        return None
    return (Decimal(part) * 100 / whole).quantize(Decimal("0.1"), ROUND_HALF_UP)


def _answers(
    period: Period,
    store_id: int | None,
    segment: str | None,
    saved: Segment | None,
):
    start, end = day_bounds(period.start, period.end)
    qs = LeaveAnswer.objects.filter(answered_at__gte=start, answered_at__lt=end)
    if store_id:
        qs = qs.filter(store_id=store_id)
    if segment:
        qs = qs.filter(member_id__in=segment_member_ids(segment))
    if saved is not None:
        qs = qs.filter(member_id__in=saved_segment_member_ids(saved))
    return qs


def churn_asked_reasons(
    period: Period,
    store_id: int | None = None,
    segment: str | None = None,
    *,
    saved: Segment | None = None,
) -> list[dict]:
    """The answers of the period by reason, most first: label, code, answers,
    members, share (percent of all answers) and one count per trigger. Three
    queries (answers by reason and trigger, members by reason, the reasons)."""
    qs = _answers(period, store_id, segment, saved)
    by_trigger = qs.values("reason_id", "trigger").annotate(n=Count("id")).order_by()
    members = dict(
        qs.values("reason_id")
        .annotate(m=Count("member_id", distinct=True))
        .order_by()
        .values_list("reason_id", "m")
    )
    if not members:
        return []
    reasons = LeaveReason.objects.in_bulk(list(members))
    rows: dict[int, dict] = {}
    for r in by_trigger:
        reason = reasons[r["reason_id"]]
        row = rows.setdefault(
            reason.pk,
            {
                "label": reason.name,
                "code": reason.code,
                "answers": 0,
                "members": members[reason.pk],
                "position": reason.position,
                **dict.fromkeys(LeaveTrigger.values, 0),
            },
        )
        row[r["trigger"]] += r["n"]
        row["answers"] += r["n"]
    total = sum(row["answers"] for row in rows.values())
    result = sorted(rows.values(), key=lambda r: (-r["answers"], r["position"]))
    for row in result:
        row["share"] = _percent(row["answers"], total)
    return result


def churn_answered_share(
    period: Period,
    store_id: int | None = None,
    segment: str | None = None,
    *,
    saved: Segment | None = None,
) -> dict:
    """How many of the period's churned members answered the leaving question
    (in the reason window): churned, answered, share (percent, None when
    nobody churned). One query."""
    start, end = reason_window(period)
    counts = Member.objects.filter(
        pk__in=churned_member_ids(period, store_id, segment, saved=saved)
    ).aggregate(
        churned=Count("pk"),
        answered=Count(
            "pk",
            filter=Exists(
                LeaveAnswer.objects.filter(
                    member_id=OuterRef("pk"),
                    answered_at__gte=start,
                    answered_at__lt=end,
                )
            ),
        ),
    )
    churned, answered = counts["churned"], counts["answered"]
    return {
        "churned": churned,
        "answered": answered,
        "share": _percent(answered, churned),
    }
