"""Keeping a period's member figures (PeriodMemberStats) until the next
refresh, so that the dashboards compute them once per period: the nightly job
fills in the default period; the first visitor of another period keeps its
figures for the next. analytics.selectors.member_figures reads and computes
them; analytics.services.snapshots empties the table when it refreshes."""

from __future__ import annotations

from django.conf import settings

from analytics.models import PeriodMemberStats
from analytics.selectors.member_figures import (
    ACTIVE_BY_STORE_KEY,
    active_by_store_compute,
    active_by_store_from,
    period_member_figures_compute,
    period_stats_kept,
)
from analytics.selectors.periods import Period, period_default
from members.models import Store


def period_stats_keep(
    *, period: Period, store_key: int, churn_days: int, stats: dict
) -> None:
    """Keep a period's member figures until the next refresh (a second writer of
    the same period is ignored). Locks nothing; queues nothing."""
    PeriodMemberStats.objects.bulk_create(
        [
            PeriodMemberStats(
                first=period.first,
                last=period.last,
                store_key=store_key,
                churn_days=churn_days,
                stats=stats,
            )
        ],
        ignore_conflicts=True,
    )


def period_member_figures_keep(*, period: Period, store_id: int | None) -> dict:
    """The period's member figures (as selectors.member_figures.
    period_member_figures gives them), kept for the next reader: one query when
    kept, else the two grouped queries and one insert. Locks nothing; queues
    nothing."""
    churn_days = settings.ANALYTICS_CHURN_DAYS
    key = store_id or 0
    kept = period_stats_kept(period, key)
    if kept is not None:
        return kept
    figures = period_member_figures_compute(period, store_id)
    period_stats_keep(
        period=period, store_key=key, churn_days=churn_days, stats=figures
    )
    return figures


def active_by_store_keep(*, period: Period) -> dict[int | None, int]:
    """Distinct buyers of the period per store and overall (None), kept for the
    next reader (store_key -1): one query when kept, else one to count and one
    insert. Locks nothing; queues nothing."""
    kept = period_stats_kept(period, ACTIVE_BY_STORE_KEY)
    if kept is None:
        kept = active_by_store_compute(period)
        period_stats_keep(
            period=period,
            store_key=ACTIVE_BY_STORE_KEY,
            churn_days=settings.ANALYTICS_CHURN_DAYS,
            stats=kept,
        )
    return active_by_store_from(kept)


def period_stats_prefill() -> int:
    """Compute the default period's member figures for all stores and each
    store (and the per-store table) so the first dashboard visitor does not
    wait for them. Returns how many were computed. Locks nothing; queues
    nothing."""
    period = period_default()
    period_member_figures_keep(period=period, store_id=None)
    active_by_store_keep(period=period)
    n = 2
    for store_id in Store.objects.values_list("id", flat=True):
        period_member_figures_keep(period=period, store_id=store_id)
        n += 1
    return n
