"""Celery tasks of the analytics app; autodiscovery imports this module."""

import logging

from celery import shared_task

from analytics.tasks_recs import copurchase_refresh, rfm_refresh  # noqa: F401

log = logging.getLogger(__name__)


@shared_task(time_limit=1800, soft_time_limit=1740)
def snapshots_refresh_incremental() -> dict:
    """Nightly: recompute the recent days and every day with new source rows.

    Safe to run twice: each day is deleted and rewritten in one transaction, and
    runs take the RefreshState row lock in turn."""
    from analytics.snapshots import period_stats_prefill
    from analytics.snapshots import snapshots_refresh_incremental as refresh

    result = refresh()
    period_stats_prefill()
    log.info(
        "Analytics snapshots: %s day(s), %s month(s) refreshed",
        result.days,
        len(result.months),
    )
    return {"days": result.days, "months": [m.isoformat() for m in result.months]}
