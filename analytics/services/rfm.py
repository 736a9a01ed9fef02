"""Writes of RFM: every member's scores, value and churn risk (`rfm_refresh`,
the nightly job, the one writer of MemberRFM), and a campaign segment made
from an RFM segment. The reads are in analytics.selectors.rfm."""

from __future__ import annotations

import datetime as dt
import logging
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from analytics.models import MemberRFM, RFMSegment
from analytics.selectors.clv import member_value
from analytics.selectors.rfm import (
    member_purchase_figures,
    quintile,
    rfm_last_computed_at,
    rfm_new_days,
    rfm_scores_query,
    rfm_segment_q,
    rfm_window_days,
    segment_for,
)
from campaigns.segments.services import segment_static_create

log = logging.getLogger(__name__)

CHUNK_SIZE = 2000


def _row_to_rfm(row: dict, *, now, window_days, scores, new_since) -> MemberRFM:
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
        segment=segment_for(r, f, m, new_member=row["first_at"] >= new_since),
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

    A COUNT and two streamed SELECTs (members who bought within the window,
    with their ranks, scored by `quintile`; members whose last purchase is
    older, scored 1/1/1 as Lost),
    upserted `chunk_size` rows per transaction; rows of members with no
    purchase left are deleted at the end. Readers see old and new rows side by
    side while it runs. Locks nothing, queues nothing; safe to run twice.
    """
    now = now or timezone.now()
    window_days = window_days or rfm_window_days()
    start = now - dt.timedelta(days=window_days)
    new_since = now - dt.timedelta(days=rfm_new_days())
    written = 0
    batch: list[MemberRFM] = []

    def add(row, scores):
        nonlocal written, batch
        batch.append(
            _row_to_rfm(
                row,
                now=now,
                window_days=window_days,
                scores=scores,
                new_since=new_since,
            )
        )
        if len(batch) >= chunk_size:
            _write(batch)
            written += len(batch)
            batch = []

    scored = rfm_scores_query(now=now, window_days=window_days)
    count = member_purchase_figures(now, start).filter(frequency__gt=0).count()
    for row in scored.iterator(chunk_size=chunk_size):
        add(
            row,
            tuple(quintile(row[key], count) for key in ("r_rank", "f_rank", "m_rank")),
        )
    lapsed = (
        member_purchase_figures(now, start).filter(frequency=0).order_by("member_id")
    )
    for row in lapsed.iterator(chunk_size=chunk_size):
        add(row, (1, 1, 1))
    if batch:
        _write(batch)
        written += len(batch)
    MemberRFM.objects.filter(computed_at__lt=now).delete()
    log.info("RFM: scored %s member(s), window %s days", written, window_days)
    return written


def rfm_segment_to_campaign_segment(*, segment: str, created_by=None):
    """A static campaign segment holding the members now in an RFM segment.

    One SELECT of the member ids, then campaigns' segment_static_create (one
    transaction). Locks nothing, queues nothing.
    """
    rfm_segment_q([segment])  # refuses an unknown name with InvalidInput
    label = RFMSegment(segment).label
    member_ids = list(
        MemberRFM.objects.filter(segment=segment)
        .order_by("member_id")
        .values_list("member_id", flat=True)
    )
    stamp = rfm_last_computed_at() or timezone.now()
    date = timezone.localdate(stamp).isoformat()
    return segment_static_create(
        name=_("RFM: %(segment)s (%(date)s)") % {"segment": label, "date": date},
        description=_(
            "Members of the RFM segment “%(segment)s” on %(date)s: %(count)s."
        )
        % {"segment": label, "date": date, "count": len(member_ids)},
        member_ids=member_ids,
        source={"source": "rfm", "rfm_segment": segment},
        by=created_by,
    )
