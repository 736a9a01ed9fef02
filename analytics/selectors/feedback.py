"""NPS, satisfaction and the complaints figures of a period, for the KPI
cards: from the live feedback tables of the campaigns app."""

from __future__ import annotations

from decimal import Decimal

from django.db.models import Q

from analytics.selectors.periods import Period, day_bounds
from campaigns.feedback.selectors import nps_for_period, satisfaction_for_period
from campaigns.models import Complaint
from members.models import Store

FEEDBACK_KEYS = {
    "nps",
    "satisfaction",
    "complaints_opened",
    "complaints_resolved",
    "complaint_resolve_hours",
}


def _median(values: list[float]) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    mid = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[mid]
    return (ordered[mid - 1] + ordered[mid]) / 2


def feedback_figures(period: Period, store_id: int | None) -> dict[str, dict]:
    """NPS, satisfaction and the complaints figures of the period ("cur") and
    the previous one ("prev"), from the live tables (surveys and complaints are
    small next to purchases): campaigns.feedback.selectors's nps_for_period and
    satisfaction_for_period (one query each per period) and one query for the
    complaints opened or resolved in either period. A store narrows answers to
    its purchases and complaints to those about it. Time to resolve is the
    median, in hours to one decimal."""
    store = Store(pk=store_id) if store_id else None
    prev = period.previous()
    bounds = {
        "cur": day_bounds(period.start, period.end),
        "prev": day_bounds(prev.start, prev.end),
    }
    out: dict[str, dict] = {}
    for w, (start, end) in bounds.items():
        nps = nps_for_period(start=start, end=end, store=store)
        satisfaction = satisfaction_for_period(start=start, end=end, store=store)
        out[w] = {
            "nps": None if nps.score is None else Decimal(str(nps.score)),
            "satisfaction": (
                None
                if satisfaction.average is None
                else Decimal(str(satisfaction.average))
            ),
            "complaints_opened": 0,
            "complaints_resolved": 0,
            "complaint_resolve_hours": None,
        }
    first, last = bounds["prev"][0], bounds["cur"][1]
    complaints = Complaint.objects.filter(
        Q(created_at__gte=first, created_at__lt=last)
        | Q(resolved_at__gte=first, resolved_at__lt=last)
    )
    if store_id:
        complaints = complaints.filter(store_id=store_id)
    hours: dict[str, list[float]] = {"cur": [], "prev": []}
    for created, resolved in complaints.values_list("created_at", "resolved_at"):
        for w, (start, end) in bounds.items():
            if start <= created < end:
                out[w]["complaints_opened"] += 1
            if resolved is not None and start <= resolved < end:
                out[w]["complaints_resolved"] += 1
                hours[w].append((resolved - created).total_seconds() / 3600)
    for w in bounds:
        median = _median(hours[w])
        if median is not None:
            out[w]["complaint_resolve_hours"] = Decimal(str(median)).quantize(
                Decimal("0.1")
            )
    return out
