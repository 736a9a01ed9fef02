"""The send-time rules for marketing messages: consent, the quiet hours (every
channel that buzzes a phone: SMS, Telegram, Viber, web push; not email),
the member's preferred hour and the frequency cap. Delivery
(campaigns.messaging.delivery) asks `marketing_verdict` for each marketing
message it is about to claim, holding the member's row lock."""

from __future__ import annotations

import datetime as dt
import zoneinfo

from django.conf import settings

from campaigns.models import DeliverySettings, Message, MessageStatus
from members.models import Channel, Member

# How a reason names a channel (reasons are kept in English, like the rest of
# the delivery log).
CHANNEL_NAMES = {
    Channel.EMAIL: "email",
    Channel.SMS: "SMS",
    Channel.TELEGRAM: "Telegram",
    Channel.VIBER: "Viber",
    Channel.PUSH: "web push",
}


def channel_interrupts(channel: str) -> bool:
    """True for a channel whose message rings or buzzes the phone when it
    arrives, so the quiet hours hold it: every channel but email."""
    return channel != Channel.EMAIL


def _zone(name: str) -> zoneinfo.ZoneInfo:
    """The member's time zone; the site's when theirs is empty or unknown."""
    try:
        return zoneinfo.ZoneInfo(name or settings.TIME_ZONE)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo(settings.TIME_ZONE)


def quiet_hours_end(
    *, at: dt.datetime, tz_name: str, conf: DeliverySettings
) -> dt.datetime | None:
    """When the quiet hours around `at` end in the time zone `tz_name`, or None
    when `at` is outside them. The window may wrap midnight (21:00-09:00)."""
    tz = _zone(tz_name)
    local = at.astimezone(tz)
    start, end, now_t = conf.quiet_start, conf.quiet_end, local.time()
    if start == end:
        return None
    if start < end:
        quiet = start <= now_t < end
        end_day = local.date()
    else:  # wraps midnight
        quiet = now_t >= start or now_t < end
        end_day = (
            local.date() + dt.timedelta(days=1) if now_t >= start else local.date()
        )
    if not quiet:
        return None
    return dt.datetime.combine(end_day, end, tzinfo=tz).astimezone(dt.UTC)


def preferred_hour_next(
    *, at: dt.datetime, tz_name: str, hour: int | None
) -> dt.datetime | None:
    """When the member's preferred hour next begins, in UTC, or None when they
    gave none or `at` is within that hour in their time zone `tz_name` (a
    message held until the hour leaves when the requeue job finds it, a few
    minutes into the hour). On the night the clocks skip the hour, its
    wall-clock time is read as zoneinfo reads it (fold 0)."""
    if hour is None:
        return None
    tz = _zone(tz_name)
    local = at.astimezone(tz)
    if local.hour == hour:
        return None
    day = local.date() if local.hour < hour else local.date() + dt.timedelta(days=1)
    return dt.datetime.combine(day, dt.time(hour), tzinfo=tz).astimezone(dt.UTC)


def preferred_hour_verdict(
    message: Message, member: Member, *, now: dt.datetime, conf: DeliverySettings
) -> tuple[str, str, dt.datetime | None] | None:
    """Hold a marketing message until the member's preferred hour, unless
    that hour falls in the quiet hours (for a channel that interrupts): then the quiet hours' end
    rules, or the message would be held from one to the other for ever."""
    until = preferred_hour_next(
        at=now, tz_name=member.timezone, hour=member.preferred_send_hour
    )
    if until is None:
        return None
    if channel_interrupts(message.channel) and quiet_hours_end(
        at=until, tz_name=member.timezone, conf=conf
    ):
        return None
    local = until.astimezone(_zone(member.timezone))
    return (
        MessageStatus.QUEUED,
        f"Delayed: the member's preferred hour in {member.timezone}, "
        f"{local:%Y-%m-%d %H:%M}",
        until,
    )


def marketing_verdict(
    message: Message,
    member: Member,
    *,
    now: dt.datetime,
    conf: DeliverySettings,
    sent: int,
) -> tuple[str, str, dt.datetime | None] | None:
    """(status, reason, send_after) when a marketing message may not leave now.

    `sent` is how many marketing messages the member was sent in the last 7
    days, this batch's claims included; the caller counts it while holding the
    member's row lock (see delivery's `_batch_deliver`)."""
    if not getattr(member, f"{message.channel}_consent"):
        channel = CHANNEL_NAMES.get(message.channel, message.channel)
        return MessageStatus.SUPPRESSED, f"No {channel} marketing consent", None
    if channel_interrupts(message.channel):
        until = quiet_hours_end(at=now, tz_name=member.timezone, conf=conf)
        if until is not None:
            local = until.astimezone(_zone(member.timezone))
            return (
                MessageStatus.QUEUED,
                f"Delayed: quiet hours in {member.timezone} until "
                f"{local:%Y-%m-%d %H:%M}",
                until,
            )
    held = preferred_hour_verdict(message, member, now=now, conf=conf)
    if held is not None:
        return held
    if sent >= conf.frequency_cap:
        return (
            MessageStatus.SUPPRESSED,
            f"Frequency cap: {sent} marketing messages in the last 7 days",
            None,
        )
    return None
