"""Nightly jobs of RFM and recommendations (thin: each calls one service)."""

import logging

from celery import shared_task

log = logging.getLogger(__name__)


@shared_task(time_limit=1800, soft_time_limit=1740)
def rfm_refresh() -> int:
    """Nightly: every member's RFM scores, value and churn risk (chunked upserts).

    Safe to run twice: it rewrites the same rows."""
    from analytics import rfm

    return rfm.rfm_refresh()


@shared_task(time_limit=1800, soft_time_limit=1740)
def copurchase_refresh() -> int:
    """Nightly: rebuild the co-purchase and item tables (one transaction).

    Safe to run twice: it rebuilds from the purchases."""
    from analytics import recommend

    pairs = recommend.copurchase_refresh()
    log.info("Co-purchase: %s item pairs", pairs)
    return pairs
