from celery import shared_task


@shared_task(time_limit=60, soft_time_limit=50)
def message_deliver(message_id: int) -> None:
    """Deliver one queued message; a second run finds it sent and does nothing."""
    from campaigns.messaging import message_deliver as service

    service(message_id=message_id)


@shared_task(time_limit=30 * 60, soft_time_limit=29 * 60)
def campaigns_dispatch_due() -> int:
    """Every minute (beat): start the scheduled campaigns whose time has come."""
    from campaigns.services_campaigns import campaigns_dispatch_due as service

    return service()


@shared_task(
    acks_late=True,
    reject_on_worker_lost=True,
    time_limit=30 * 60,
    soft_time_limit=29 * 60,
)
def campaign_chunk_send(chunk_id: int) -> int | None:
    """Send one chunk of a campaign run (up to 1 000 members). Safe to run twice:
    a redelivered chunk writes no second message and sends nothing again."""
    from campaigns.services_campaigns import campaign_chunk_send as service

    result = service(chunk_id=chunk_id)
    return None if result is None else result.written


@shared_task(time_limit=30 * 60, soft_time_limit=29 * 60)
def campaign_bonuses_grant_due() -> int:
    """Hourly: bonus points for campaign recipients who bought within the window."""
    from campaigns.services_campaigns import campaign_bonuses_grant_due as service

    return service()


from campaigns.tasks_events import (  # noqa: E402, F401 - the worker finds them here
    event_cancelled_notify,
    event_reminders_send_due,
)
from campaigns.tasks_feedback import (  # noqa: E402, F401 - the worker finds them here
    survey_invites_send,
    survey_invites_send_due,
)
