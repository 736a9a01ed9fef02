"""Celery tasks of the analytics app; autodiscovery imports this module."""

from analytics.tasks_recs import copurchase_refresh, rfm_refresh  # noqa: F401
