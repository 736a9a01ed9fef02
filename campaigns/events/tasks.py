"""Celery tasks of events (imported by campaigns.tasks so the worker finds
them; their names stay campaigns.tasks.*): thin wrappers that take ids and call
one service."""

from celery import shared_task

from campaigns.events import services


@shared_task(
    name="campaigns.tasks.event_reminders_send_due",
    time_limit=600,
    soft_time_limit=570,
)
def event_reminders_send_due() -> int:
    """Periodic (beat): remind everyone going to the events whose time has come."""
    return services.event_reminders_send_due()


@shared_task(
    name="campaigns.tasks.event_cancelled_notify",
    time_limit=600,
    soft_time_limit=570,
)
def event_cancelled_notify(event_id: int) -> int:
    """Tell everyone going to (or waiting for) a cancelled event; safe to run twice."""
    return services.event_cancelled_notify(event_id=event_id)
