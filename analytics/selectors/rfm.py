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
from django.db.models.functions import Coalesce, Ntile
from django.utils.translation import gettext as _

from analytics.models import MemberRFM, RFMSegment
from members.errors import InvalidInput
from rewards.models import Purchase

DEFAULT_WINDOW_DAYS = 365
S = RFMSegment
# Segment by recency score (rows, 5 = bought most recently) and FM, the
# rounded-up mean of the frequency and monetary scores (columns 1..5).
SEGMENT_GRID: dict[int, tuple[str, str, str, str, str]] = {
    5: (S.NEW, S.POTENTIAL_LOYALISTS, S.POTENTIAL_LOYALISTS, S.CHAMPIONS, S.CHAMPIONS),
    4: (S.PROMISING, S.POTENTIAL_LOYALISTS, S.POTENTIAL_LOYALISTS, S.LOYAL, S.LOYAL),
    3: (S.ABOUT_TO_SLEEP, S.ABOUT_TO_SLEEP, S.NEED_ATTENTION, S.LOYAL, S.LOYAL),
    2: (S.HIBERNATING, S.HIBERNATING, S.AT_RISK, S.AT_RISK, S.CANT_LOSE),
    1: (S.LOST, S.LOST, S.AT_RISK, S.AT_RISK, S.CANT_LOSE),
}


def segment_for(r: int, f: int, m: int) -> str:
    """The named segment of an R, F, M score triple (each 1..5)."""
    fm = (f + m + 1) // 2
    return SEGMENT_GRID[r][fm - 1]


def rfm_window_days() -> int:
    return int(getattr(settings, "ANALYTICS_RFM_WINDOW_DAYS", DEFAULT_WINDOW_DAYS))


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
    """Members who bought within the window with their quintile scores, computed
    by the database (NTILE over the grouped rows; ties go by member id)."""
    start = now - dt.timedelta(days=window_days)
    return (
        member_purchase_figures(now, start)
        .filter(frequency__gt=0)
        .annotate(
            r_score=Window(
                Ntile(5), order_by=[F("last_at").asc(), F("member_id").asc()]
            ),
            f_score=Window(
                Ntile(5), order_by=[F("frequency").asc(), F("member_id").asc()]
            ),
            m_score=Window(
                Ntile(5), order_by=[F("monetary").asc(), F("member_id").asc()]
            ),
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
