from celery import shared_task

from members.services import otp_purge_expired as otp_purge_expired_service


@shared_task(time_limit=120, soft_time_limit=100)
def otp_purge_expired() -> int:
    return otp_purge_expired_service()


@shared_task(time_limit=60, soft_time_limit=50)
def password_reset_email_send(email: str, language: str) -> int:
    """The reset email for `email` (queued by members.password_reset, by name).

    Run twice, it sends a second link; both work until one is used."""
    from members.password_reset import password_reset_email_send as service

    return service(email=email, language=language)
