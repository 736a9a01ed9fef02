"""RFM scores and segments, computed in SQL and kept in `MemberRFM`.

`rfm_refresh` is the one writer (the nightly task calls it); the selectors
below are the reads the admin page, Member 360 and the campaign segments share.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db import models, transaction
from django.db.models import Count, F, Max, Min, Q, Sum, Window
from django.db.models.functions import Coalesce, Ntile
from django.utils import timezone
from django.utils.translation import gettext as _

from analytics.clv import member_value
from analytics.models import MemberRFM, RFMSegment
from members.errors import InvalidInput

log = logging.getLogger(__name__)

DEFAULT_WINDOW_DAYS = 365
CHUNK_SIZE = 2000
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


def _member_history(now: dt.datetime, start: dt.datetime):
    """Per member who ever bought: lifetime and in-window figures (one GROUP BY)."""
    from rewards.models import Purchase

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
        _member_history(now, start)
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


def _row_to_rfm(row: dict, *, now, window_days, scores) -> MemberRFM:
    r, f, m = scores
    span = (row["last_at"] - row["first_at"]).total_seconds() / 86400
    gap = max((now - row["last_at"]).total_seconds() / 86400, 0.0)
    historic = Decimal(row["historic"] or 0)
    value = member_value(
        purchases=row["purchases"],
        span_days=span,
        gap_days=gap,
        historic_value=historic,
    )
    return MemberRFM(
        member_id=row["member_id"],
        window_days=window_days,
        recency_days=int(gap),
        frequency=row["frequency"],
        monetary=Decimal(row["monetary"] or 0),
        r_score=r,
        f_score=f,
        m_score=m,
        segment=segment_for(r, f, m),
        purchases_total=row["purchases"],
        first_purchase_at=row["first_at"],
        last_purchase_at=row["last_at"],
        historic_value=historic,
        usual_gap_days=Decimal(str(value.usual_gap_days)),
        expected_purchases=Decimal(str(value.expected_purchases)),
        predicted_value=value.predicted_value,
        churn_risk=value.churn_risk,
        computed_at=now,
    )


_UPDATE_FIELDS = [
    f.name
    for f in MemberRFM._meta.concrete_fields
    if not f.primary_key  # member
]


def _write(batch: list[MemberRFM]) -> None:
    with transaction.atomic():
        MemberRFM.objects.bulk_create(
            batch,
            update_conflicts=True,
            unique_fields=["member"],
            update_fields=_UPDATE_FIELDS,
        )


def rfm_refresh(
    *,
    now: dt.datetime | None = None,
    window_days: int | None = None,
    chunk_size: int = CHUNK_SIZE,
) -> int:
    """Recompute every member's RFM row; returns how many members were scored.

    Two streamed SELECTs (members who bought within the window, with their
    NTILE scores; members whose last purchase is older, scored 1/1/1 as Lost),
    upserted `chunk_size` rows per transaction; rows of members with no
    purchase left are deleted at the end. Readers see old and new rows side by
    side while it runs. Locks nothing, queues nothing; safe to run twice.
    """
    now = now or timezone.now()
    window_days = window_days or rfm_window_days()
    start = now - dt.timedelta(days=window_days)
    written = 0
    batch: list[MemberRFM] = []

    def add(row, scores):
        nonlocal written, batch
        batch.append(_row_to_rfm(row, now=now, window_days=window_days, scores=scores))
        if len(batch) >= chunk_size:
            _write(batch)
            written += len(batch)
            batch = []

    scored = rfm_scores_query(now=now, window_days=window_days)
    for row in scored.iterator(chunk_size=chunk_size):
        add(row, (row["r_score"], row["f_score"], row["m_score"]))
    lapsed = _member_history(now, start).filter(frequency=0).order_by("member_id")
    for row in lapsed.iterator(chunk_size=chunk_size):
        add(row, (1, 1, 1))
    if batch:
        _write(batch)
        written += len(batch)
    MemberRFM.objects.filter(computed_at__lt=now).delete()
    log.info("RFM: scored %s member(s), window %s days", written, window_days)
    return written


# --- reads ---------------------------------------------------------------------------


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


def rfm_segment_to_campaign_segment(*, segment: str, created_by=None):
    """A static campaign segment holding the members now in an RFM segment.

    One SELECT of the member ids, then one INSERT per 5,000 rows, all in one
    transaction with the Segment row. Locks nothing, queues nothing.
    """
    from campaigns.models import Segment, SegmentKind, SegmentStaticMember

    rfm_segment_q([segment])  # refuses an unknown name with InvalidInput
    label = RFMSegment(segment).label
    member_ids = list(
        MemberRFM.objects.filter(segment=segment)
        .order_by("member_id")
        .values_list("member_id", flat=True)
    )
    stamp = rfm_last_computed_at() or timezone.now()
    with transaction.atomic(durable=True):
        campaign_segment = Segment.objects.create(
            name=_("RFM: %(segment)s (%(date)s)")
            % {"segment": label, "date": timezone.localdate(stamp).isoformat()},
            description=_(
                "Members of the RFM segment “%(segment)s” on %(date)s: %(count)s."
            )
            % {
                "segment": label,
                "date": timezone.localdate(stamp).isoformat(),
                "count": len(member_ids),
            },
            kind=SegmentKind.STATIC,
            definition={"source": "rfm", "rfm_segment": segment},
            created_by=created_by,
        )
        SegmentStaticMember.objects.bulk_create(
            [
                SegmentStaticMember(segment=campaign_segment, member_id=pk)
                for pk in member_ids
            ],
            batch_size=5000,
        )
    return campaign_segment
