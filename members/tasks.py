from celery import shared_task

from members.services import otp_purge_expired as otp_purge_expired_service


@shared_task(time_limit=120, soft_time_limit=100)
def otp_purge_expired() -> int:
    return otp_purge_expired_service()


@shared_task(time_limit=1800, soft_time_limit=1740)
def birthday_bonus_grant_due() -> int:
    """Nightly: birthday bonuses for this month's birthdays, each once a year."""
    from members.services import birthday_bonus_grant_due as service

    return service()
