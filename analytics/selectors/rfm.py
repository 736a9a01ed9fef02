"""RFM scores and segments: the segment grid, the scoring query and the reads
the admin page, Member 360 and the campaign segments share. The scores are
computed in SQL and kept in `MemberRFM` by analytics.services.rfm.rfm_refresh,
the one writer (the nightly task calls it).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Count, F, Max, Min, Q, Sum, Window
from django.db.models.functions import Coalesce, Rank
from django.utils.translation import gettext as _

from analytics.models import MemberRFM, RFMSegment
from members.errors import InvalidInput
from rewards.models import Purchase

DEFAULT_WINDOW_DAYS = 365
# A member whose first purchase is this recent is New unless they already buy
# like a good customer: see segment_for.
DEFAULT_NEW_DAYS = 90
S = RFMSegment
# Segment by recency score (rows, 5 = bought most recently) and FM, the
# rounded-up mean of the frequency and monetary scores (columns 1..5). New is
# not in the grid: it depends on when the member first bought (segment_for).
SEGMENT_GRID: dict[int, tuple[str, str, str, str, str]] = {
    5: (
        S.PROMISING,
        S.POTENTIAL_LOYALISTS,
        S.POTENTIAL_LOYALISTS,
        S.CHAMPIONS,
        S.CHAMPIONS,
    ),
    4: (S.PROMISING, S.POTENTIAL_LOYALISTS, S.POTENTIAL_LOYALISTS, S.LOYAL, S.LOYAL),
    3: (S.ABOUT_TO_SLEEP, S.ABOUT_TO_SLEEP, S.NEED_ATTENTION, S.LOYAL, S.LOYAL),
    2: (S.HIBERNATING, S.HIBERNATING, S.AT_RISK, S.AT_RISK, S.CANT_LOSE),
    1: (S.LOST, S.LOST, S.AT_RISK, S.AT_RISK, S.CANT_LOSE),
}


GOOD_SEGMENTS = frozenset({S.CHAMPIONS, S.LOYAL, S.POTENTIAL_LOYALISTS})


def segment_for(r: int, f: int, m: int, *, new_member: bool = False) -> str:
    """The named segment of an R, F, M score triple (each 1..5).

    `new_member`: the first purchase lies within rfm_new_days(). Such a member
    is New unless they already buy often enough (F >= 2) to stand with the
    good customers (Champions, Loyal, Potential loyalists): a few weeks of
    history are too short to call anyone hibernating or at risk, one purchase
    however large says nothing of how often they will come, and the campaign
    they need is the welcome one.
    """
    fm = (f + m + 1) // 2
    segment = SEGMENT_GRID[r][fm - 1]
    if new_member and (f == 1 or segment not in GOOD_SEGMENTS):
        return RFMSegment.NEW
    return segment


def quintile(rank: int, count: int) -> int:
    """The score 1..5 of the `rank`-th (1-based, ties sharing their lowest
    rank, as SQL RANK() gives them) of `count` values in ascending order.

    Equal values get equal scores, unlike NTILE, which splits a run of ties
    by whatever comes next in the ORDER BY: with NTILE the newest of many
    one-purchase members scored F = 2 because their ids were the highest.
    Without ties it matches NTILE(5) when `count` is a multiple of 5. Capped
    at 5: a purchase between the COUNT and the ranking may push a rank past it.
    """
    return min(5, 1 + (5 * (rank - 1)) // count)


def rfm_window_days() -> int:
    return int(getattr(settings, "ANALYTICS_RFM_WINDOW_DAYS", DEFAULT_WINDOW_DAYS))


def rfm_new_days() -> int:
    return int(getattr(settings, "ANALYTICS_RFM_NEW_DAYS", DEFAULT_NEW_DAYS))


def member_purchase_figures(now: dt.datetime, start: dt.datetime):
    """Per member who ever bought: lifetime and in-window figures (one GROUP BY)."""
    money = models.DecimalField(max_digits=14, decimal_places=2)
    net = models.ExpressionWrapper(F("total") - F("returned_total"), output_field=money)
    in_window = Q(occurred_at__gte=start)
    return (
        Purchase.objects.filter(occurred_at__lte=now)
        .values("member_id")
        .annotate(
            first_at=Min("occurred_at"),
            last_at=Max("occurred_at"),
            purchases=Count("id"),
            historic=Sum(net, output_field=money),
            frequency=Count("id", filter=in_window),
            monetary=Coalesce(
                Sum(net, filter=in_window, output_field=money),
                models.Value(Decimal("0")),
                output_field=money,
            ),
        )
    )


def rfm_scores_query(*, now: dt.datetime, window_days: int):
    """Members who bought within the window with the rank of their last
    purchase time, frequency and net spend among them (`r_rank`, `f_rank`,
    `m_rank`: RANK() over the grouped rows, ascending, ties sharing a rank).
    `quintile(rank, count)` turns a rank into its score."""
    start = now - dt.timedelta(days=window_days)
    return (
        member_purchase_figures(now, start)
        .filter(frequency__gt=0)
        .annotate(
            r_rank=Window(Rank(), order_by=F("last_at").asc()),
            f_rank=Window(Rank(), order_by=F("frequency").asc()),
            m_rank=Window(Rank(), order_by=F("monetary").asc()),
        )
        .order_by("member_id")
    )


@dataclass(frozen=True)
class SegmentSummary:
    segment: str
    label: str
    members: int
    share: float  # of scored members, 0..1
    revenue: Decimal  # net spend within the window
    historic_value: Decimal
    predicted_value: Decimal
    avg_recency_days: float
    avg_frequency: float

    @property
    def share_percent(self) -> Decimal:
        return Decimal(str(self.share * 100)).quantize(Decimal("0.1"))


def rfm_segment_summary() -> list[SegmentSummary]:
    """Every segment, empty ones too, in RFMSegment order (one query)."""
    rows = {
        row["segment"]: row
        for row in MemberRFM.objects.values("segment").annotate(
            members=Count("member_id"),
            revenue=Sum("monetary"),
            historic=Sum("historic_value"),
            predicted=Sum("predicted_value"),
            recency=models.Avg("recency_days"),
            frequency=models.Avg("frequency"),
        )
    }
    total = sum(row["members"] for row in rows.values()) or 1
    out = []
    for value, label in RFMSegment.choices:
        row = rows.get(value, {})
        out.append(
            SegmentSummary(
                segment=value,
                label=str(label),
                members=row.get("members", 0),
                share=row.get("members", 0) / total,
                revenue=Decimal(row.get("revenue") or 0),
                historic_value=Decimal(row.get("historic") or 0),
                predicted_value=Decimal(row.get("predicted") or 0),
                avg_recency_days=float(row.get("recency") or 0),
                avg_frequency=float(row.get("frequency") or 0),
            )
        )
    return out


def rfm_last_computed_at() -> dt.datetime | None:
    return MemberRFM.objects.aggregate(at=Max("computed_at"))["at"]


def rfm_segment_q(names) -> Q:
    """Members whose current RFM segment is one of `names` (for segment rules).

    `Member.objects.filter(rfm_segment_q(["champions", "loyal"]))`; unknown
    names raise InvalidInput naming them.
    """
    names = [names] if isinstance(names, str) else list(names)
    unknown = sorted(set(names) - set(RFMSegment.values))
    if unknown or not names:
        raise InvalidInput(
            _("Unknown RFM segment: %(names)s.") % {"names": ", ".join(unknown) or "—"},
            field="segment",
        )
    return Q(rfm__segment__in=names)
