"""Celery tasks of delivery (imported by campaigns.tasks so the worker finds
them; their names stay campaigns.tasks.*): thin wrappers that take ids and call
one service."""

from celery import shared_task

from campaigns.messaging import delivery, services


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
