"""Celery tasks of the automated journeys (imported by campaigns.tasks so the
worker finds them; their names stay campaigns.tasks.*): each periodic one runs
one journey through `journey_run`, which queues `journey_send_chunk` per chunk.
Safe to run twice: each message's key names its occurrence."""

from celery import shared_task

from campaigns.journeys import services


@shared_task(
    name="campaigns.tasks.journey_send_chunk", time_limit=300, soft_time_limit=240
)
def journey_send_chunk(kind: str, items: list) -> int:
    """Send one chunk of a journey: `items` are [member_id, key, extras] as the
    journey's selection found them; message keys make a rerun send nothing."""
    return services.journey_send_chunk(kind=kind, items=items)


@shared_task(
    name="campaigns.tasks.journey_welcome_due", time_limit=300, soft_time_limit=240
)
def journey_welcome_due() -> int:
    """Hourly: welcome members who joined recently and got no welcome yet.
    Safe to run twice: each message's key names its occurrence."""
    return services.journey_run(kind="welcome")


@shared_task(
    name="campaigns.tasks.journey_birthday_due", time_limit=300, soft_time_limit=240
)
def journey_birthday_due() -> int:
    """Daily, in the morning: birthday wishes, once a year.
    Safe to run twice: each message's key names its occurrence."""
    return services.journey_run(kind="birthday")


@shared_task(
    name="campaigns.tasks.journey_points_expiring_due",
    time_limit=300,
    soft_time_limit=240,
)
def journey_points_expiring_due() -> int:
    """Daily: warn members whose points expire within the journey's days.
    Safe to run twice: each message's key names its occurrence."""
    return services.journey_run(kind="points_expiring")


@shared_task(
    name="campaigns.tasks.journey_tier_change_due", time_limit=300, soft_time_limit=240
)
def journey_tier_change_due() -> int:
    """Hourly: congratulate on an upgrade, explain a downgrade, once per move.
    Safe to run twice: each message's key names its occurrence."""
    return services.journey_run(kind="tier_change")


@shared_task(
    name="campaigns.tasks.journey_win_back_due", time_limit=300, soft_time_limit=240
)
def journey_win_back_due() -> int:
    """Daily: members without a purchase for the journey's days, once per lapse.
    Safe to run twice: each message's key names its occurrence."""
    return services.journey_run(kind="win_back")


@shared_task(
    name="campaigns.tasks.journey_voucher_reminder_due",
    time_limit=300,
    soft_time_limit=240,
)
def journey_voucher_reminder_due() -> int:
    """Daily: remind of vouchers expiring unused within the journey's days.
    Safe to run twice: each message's key names its occurrence."""
    return services.journey_run(kind="voucher_reminder")
