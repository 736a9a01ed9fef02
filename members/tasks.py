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


@shared_task(time_limit=900, soft_time_limit=840)
def anomalies_scan_daily(day: str | None = None) -> int:
    """Nightly: flag yesterday's unusual activity and email Managers a digest.

    `day` (ISO date) rescans another day. Safe to run twice: a rerun flags
    nothing twice, and the digest lists only the new flags (none: no email).
    """
    import datetime as dt

    from django.utils import timezone

    from members.anomalies import anomalies_scan

    when = (
        dt.date.fromisoformat(day)
        if day
        else timezone.localdate() - dt.timedelta(days=1)
    )
    return len(anomalies_scan(day=when, digest=True))


@shared_task(time_limit=60, soft_time_limit=50)
def password_reset_email_send(email: str, language: str) -> int:
    """The reset email for `email` (queued by members.password_reset, by name).

    Run twice, it sends a second link; both work until one is used."""
    from members.password_reset import password_reset_email_send as service

    return service(email=email, language=language)
