from celery import shared_task


@shared_task(time_limit=60, soft_time_limit=50)
def message_deliver(message_id: int) -> None:
    """Deliver one queued message; a second run finds it sent and does nothing."""
    from campaigns.messaging import message_deliver as service

    service(message_id=message_id)


from campaigns.tasks_feedback import (  # noqa: E402, F401 - the worker finds them here
    survey_invites_send,
    survey_invites_send_due,
)
