"""Celery tasks of the analytics app (thin: each calls one service); autodiscovery
imports this module. The RFM and co-purchase tasks keep the names they were
first queued and scheduled under (analytics.tasks_recs.*)."""

import logging

from celery import shared_task

from analytics.services.clv import clv_model_refit
from analytics.services.period_stats import period_stats_prefill
from analytics.services.recommend import copurchase_refresh as copurchase_rebuild
from analytics.services.rfm import rfm_refresh as rfm_scores_refresh
from analytics.services.snapshots import (
    snapshots_refresh_incremental as snapshots_refresh,
)
from members.replica import replica_reads

log = logging.getLogger(__name__)

# The analytics jobs may read the replica when there is one (members.replica);
# reads inside their transactions stay on the primary unless they say otherwise.


@shared_task(time_limit=1800, soft_time_limit=1740)
def snapshots_refresh_incremental() -> dict:
    """Nightly: recompute the recent days and every day with new source rows,
    then keep the default period's member figures.

    Safe to run twice: each day is deleted and rewritten in one transaction, and
    runs take the RefreshState row lock in turn."""
    with replica_reads():
        result = snapshots_refresh()
    # On the primary: the refresh has just emptied the kept figures there; a
    # replica a moment behind would still show them and nothing would be kept.
    period_stats_prefill()
    log.info(
        "Analytics snapshots: %s day(s), %s month(s) refreshed",
        result.days,
        len(result.months),
    )
    return {"days": result.days, "months": [m.isoformat() for m in result.months]}


@shared_task(
    name="analytics.tasks_recs.rfm_refresh", time_limit=1800, soft_time_limit=1740
)
@replica_reads()
def rfm_refresh() -> int:
    """Nightly: every member's RFM scores, value and churn risk (chunked upserts).

    Safe to run twice: it rewrites the same rows."""
    return rfm_scores_refresh()


@shared_task(
    name="analytics.tasks_recs.copurchase_refresh",
    time_limit=1800,
    soft_time_limit=1740,
)
@replica_reads()
def copurchase_refresh() -> int:
    """Nightly: rebuild the co-purchase and item tables (one transaction).

    Safe to run twice: it rebuilds from the purchases."""
    pairs = copurchase_rebuild()
    log.info("Co-purchase: %s item pairs", pairs)
    return pairs


@shared_task(time_limit=1800, soft_time_limit=1740)
@replica_reads()
def clv_refit() -> dict:
    """Nightly: refit BG/NBD and Gamma-Gamma on the purchases and rewrite every
    member's P(alive) and predicted value (analytics.services.clv).

    Safe to run twice: each run adds a fit row and rewrites the same member rows."""
    fit = clv_model_refit()
    return {
        "fit_id": fit.pk,
        "fitted": fit.fitted,
        "members_model": fit.members_model,
        "members_heuristic": fit.members_heuristic,
    }
