from celery import shared_task


@shared_task(time_limit=60, soft_time_limit=50)
def message_deliver(message_id: int) -> None:
    """Deliver one queued message; a second run finds it sent and does nothing."""
    from campaigns.messaging.services import message_deliver as service

    service(message_id=message_id)


@shared_task(time_limit=30 * 60, soft_time_limit=29 * 60)
def campaigns_dispatch_due() -> int:
    """Every minute (beat): start the scheduled campaigns whose time has come."""
    from campaigns.sending.services import campaigns_dispatch_due as service

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
    from campaigns.sending.services import campaign_chunk_send as service

    result = service(chunk_id=chunk_id)
    return None if result is None else result.written


@shared_task(time_limit=30 * 60, soft_time_limit=29 * 60)
def campaign_bonuses_grant_due() -> int:
    """Hourly: bonus points for campaign recipients who bought within the window."""
    from campaigns.sending.services import campaign_bonuses_grant_due as service

    return service()


# --- delivery and journeys (campaigns.messaging.services, campaigns.journeys.services) ---------------


@shared_task(time_limit=120, soft_time_limit=100)
def messages_requeue_due() -> int:
    """Every 5 minutes: queue again the messages whose delay is over (quiet hours,
    retries) and queued ones whose task was lost. Safe to run twice."""
    from campaigns.messaging.services import messages_requeue_due as service

    return service()


@shared_task(time_limit=300, soft_time_limit=240)
def journey_send_chunk(kind: str, items: list) -> int:
    """Send one chunk of a journey: `items` are [member_id, key, extras] as the
    journey's selection found them; message keys make a rerun send nothing."""
    from campaigns.journeys.services import journey_send_chunk as service

    return service(kind=kind, items=items)


@shared_task(time_limit=300, soft_time_limit=240)
def journey_welcome_due() -> int:
    """Hourly: welcome members who joined recently and got no welcome yet.
    Safe to run twice: each message's key names its occurrence."""
    from campaigns.journeys.services import journey_run

    return journey_run(kind="welcome")


@shared_task(time_limit=300, soft_time_limit=240)
def journey_birthday_due() -> int:
    """Daily, in the morning: birthday wishes, once a year.
    Safe to run twice: each message's key names its occurrence."""
    from campaigns.journeys.services import journey_run

    return journey_run(kind="birthday")


@shared_task(time_limit=300, soft_time_limit=240)
def journey_points_expiring_due() -> int:
    """Daily: warn members whose points expire within the journey's days.
    Safe to run twice: each message's key names its occurrence."""
    from campaigns.journeys.services import journey_run

    return journey_run(kind="points_expiring")


@shared_task(time_limit=300, soft_time_limit=240)
def journey_tier_change_due() -> int:
    """Hourly: congratulate on an upgrade, explain a downgrade, once per move.
    Safe to run twice: each message's key names its occurrence."""
    from campaigns.journeys.services import journey_run

    return journey_run(kind="tier_change")


@shared_task(time_limit=300, soft_time_limit=240)
def journey_win_back_due() -> int:
    """Daily: members without a purchase for the journey's days, once per lapse.
    Safe to run twice: each message's key names its occurrence."""
    from campaigns.journeys.services import journey_run

    return journey_run(kind="win_back")


@shared_task(time_limit=300, soft_time_limit=240)
def journey_voucher_reminder_due() -> int:
    """Daily: remind of vouchers expiring unused within the journey's days.
    Safe to run twice: each message's key names its occurrence."""
    from campaigns.journeys.services import journey_run

    return journey_run(kind="voucher_reminder")


from campaigns.events.tasks import (  # noqa: E402, F401 - the worker finds them here
    event_cancelled_notify,
    event_reminders_send_due,
)
from campaigns.feedback.tasks import (  # noqa: E402, F401 - the worker finds them here
    survey_invites_send,
    survey_invites_send_due,
)
