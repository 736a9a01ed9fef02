"""Who is in a segment: one SQL query, never a loop over members."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from campaigns.models import Segment, SegmentKind
from members.models import Member


class SegmentError(ValueError):
    """A segment definition that cannot be evaluated (names the condition)."""


def segment_q(definition: dict) -> Q:
    """The filter for a conditions tree; an empty tree matches every member."""
    conditions = definition.get("conditions") or []
    if conditions:
        raise SegmentError(f"Unknown condition: {conditions[0]!r}")
    return Q()


def segment_members(segment: Segment) -> QuerySet[Member]:
    """The members in a segment now, as one lazy queryset."""
    if segment.kind == SegmentKind.STATIC:
        return Member.objects.filter(pk__in=segment.static_members.values("member_id"))
    return Member.objects.filter(segment_q(segment.definition or {}))
