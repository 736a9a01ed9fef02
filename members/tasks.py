from celery import shared_task

from members.services import otp_purge_expired as otp_purge_expired_service
from members.services.webhook_delivery import (
    webhook_deliveries_due_send as webhook_deliveries_due_send_service,
)
from members.services.webhook_delivery import (
    webhook_delivery_send as webhook_delivery_send_service,
)


@shared_task(time_limit=120, soft_time_limit=100)
def otp_purge_expired() -> int:
    return otp_purge_expired_service()


@shared_task(time_limit=60, soft_time_limit=50)
def password_reset_email_send(email: str, language: str) -> int:
    """The reset email for `email` (queued by members.password_reset, by name).

    Run twice, it sends a second link; both work until one is used."""
    from members.password_reset import password_reset_email_send as service

    return service(email=email, language=language)


@shared_task(time_limit=60, soft_time_limit=50)
def webhook_delivery_send(delivery_id: int) -> str:
    """Try one webhook delivery (queued on commit by members.services.webhooks,
    by name). Run twice or for a settled delivery, it sends nothing more."""
    return webhook_delivery_send_service(delivery_id=delivery_id)


@shared_task(time_limit=300, soft_time_limit=280)
def webhook_deliveries_due_send() -> int:
    """The webhook sweeper (CELERY_BEAT_SCHEDULE): retries that came due and
    whatever a dead worker left."""
    return webhook_deliveries_due_send_service()
