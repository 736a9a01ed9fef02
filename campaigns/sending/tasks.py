"""Celery tasks of campaigns (imported by campaigns.tasks so the worker finds
them; their names stay campaigns.tasks.*): thin wrappers that take ids and call
one service."""

from celery import shared_task

from campaigns.sending import chunks, services


@shared_task(
    name="campaigns.tasks.campaigns_dispatch_due",
    time_limit=30 * 60,
    soft_time_limit=29 * 60,
)
def campaigns_dispatch_due() -> int:
    """Every minute (beat): start the scheduled campaigns whose time has come."""
    return services.campaigns_dispatch_due()


@shared_task(
    name="campaigns.tasks.campaign_chunk_send",
    acks_late=True,
    reject_on_worker_lost=True,
    time_limit=30 * 60,
    soft_time_limit=29 * 60,
)
def campaign_chunk_send(chunk_id: int) -> int | None:
    """Send one chunk of a campaign run (up to 1 000 members). Safe to run twice:
    a redelivered chunk writes no second message and sends nothing again."""
    result = chunks.campaign_chunk_send(chunk_id=chunk_id)
    return None if result is None else result.written


@shared_task(
    name="campaigns.tasks.campaign_bonuses_grant_due",
    time_limit=30 * 60,
    soft_time_limit=29 * 60,
)
def campaign_bonuses_grant_due() -> int:
    """Hourly: bonus points for campaign recipients who bought within the window."""
    return chunks.campaign_bonuses_grant_due()
