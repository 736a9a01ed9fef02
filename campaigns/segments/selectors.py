"""Who is in a segment: one lazy queryset of members (`segment_members`), its
count and a sample for the admin's preview, never a loop over members."""

from __future__ import annotations

import datetime as dt

from django.db.models import Exists, OuterRef, QuerySet

from campaigns.models import Segment, SegmentKind, SegmentStaticMember
from campaigns.segments.definition import segment_q
from members.models import Member
from rewards.models import EarningRule, PurchaseLine, StampProgram
from rewards.selectors import catalog as catalog_selectors


def segment_members(
    segment: Segment, *, now: dt.datetime | None = None
) -> QuerySet[Member]:
    """The members in a segment now, as one lazy queryset."""
    if segment.kind == SegmentKind.STATIC:
        listed = SegmentStaticMember.objects.filter(
            segment_id=segment.pk, member_id=OuterRef("pk")
        )
        return Member.objects.filter(Exists(listed))
    return Member.objects.filter(segment_q(segment.definition or {}, now=now))


def _members_of(
    segment_or_definition: Segment | dict, now: dt.datetime | None
) -> QuerySet[Member]:
    if isinstance(segment_or_definition, Segment):
        return segment_members(segment_or_definition, now=now)
    return Member.objects.filter(segment_q(segment_or_definition, now=now))


def segment_count(
    segment_or_definition: Segment | dict, *, now: dt.datetime | None = None
) -> int:
    """How many members a segment (or an unsaved definition) holds: one COUNT."""
    return _members_of(segment_or_definition, now).count()


def segment_sample(
    segment_or_definition: Segment | dict,
    *,
    n: int = 10,
    now: dt.datetime | None = None,
) -> list[Member]:
    """Up to `n` members of the segment, newest first, with their account and
    tier: one query."""
    return list(
        _members_of(segment_or_definition, now)
        .select_related("account__tier")
        .order_by("-enrolled_at", "-pk")[:n]
    )


def category_choices() -> list[tuple[str, str]]:
    """The item categories a segment may name, as (code, name) sorted by name:
    every code on purchase lines (as the tills send it) and every code an
    earning rule or stamp program names. Three DISTINCT queries and the names'."""
    codes = set(
        PurchaseLine.objects.exclude(category="")
        .order_by()
        .values_list("category", flat=True)
        .distinct()
    )
    known = {code.lower() for code in codes}
    for model in (EarningRule, StampProgram):
        for code in (
            model.objects.exclude(category="")
            .order_by()
            .values_list("category", flat=True)
            .distinct()
        ):
            # Rules match case-insensitively; a code the lines already hold
            # in another case is the same category.
            if code.lower() not in known:
                codes.add(code)
                known.add(code.lower())
    names = catalog_selectors.category_names()
    choices = [(code, names.get(code.lower()) or code) for code in codes]
    return sorted(choices, key=lambda choice: (choice[1].casefold(), choice[0]))
