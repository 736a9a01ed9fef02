"""Celery tasks of delivery (imported by campaigns.tasks so the worker finds
them; their names stay campaigns.tasks.*): thin wrappers that take ids and call
one service."""

from celery import shared_task

from campaigns.messaging import delivery, services, viber


@shared_task(name="campaigns.tasks.message_deliver", time_limit=60, soft_time_limit=50)
def message_deliver(message_id: int) -> None:
    """Deliver one queued message; a second run finds it sent and does nothing."""
    delivery.message_deliver(message_id=message_id)


@shared_task(
    name="campaigns.tasks.messages_requeue_due", time_limit=120, soft_time_limit=100
)
def messages_requeue_due() -> int:
    """Every 5 minutes: queue again the messages whose delay is over (quiet hours,
    retries) and queued ones whose task was lost. Safe to run twice."""
    return services.messages_requeue_due()


@shared_task(
    name="campaigns.tasks.viber_statuses_poll", time_limit=120, soft_time_limit=100
)
def viber_statuses_poll() -> int:
    """Every 10 minutes: the Viber provider's delivery statuses of recent
    messages (a not-delivered one goes by SMS). Safe to run twice."""
    return viber.viber_statuses_poll()
