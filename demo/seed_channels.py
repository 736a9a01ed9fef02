"""Demo members who prefer each channel (called by seed_demo): a few linked
to the Telegram bot, a few reached on Viber, a few with web push turned on in
a browser, a few who want SMS, each with their consent on that channel and the
channel as their preferred one, so that segments, the Outbox, the member's
page and the channel figures show every channel, not only email.

Through the services a customer's own steps go through: the portal's link code
redeemed by the bot (telegram_link), the browser's push subscription
(push_subscription_save), the consent tick (member_consent_set) and the
profile's preferred channel (member_update_profile). The Telegram chats and
push endpoints are made up; without a bot token or VAPID keys (make run)
their messages stay in admin, Outbox.
"""

from __future__ import annotations

import base64
import hashlib

from members.models import Channel, ConsentSource, Member
from members.services import (
    member_consent_set,
    member_update_profile,
    push_subscription_save,
    telegram_link,
    telegram_link_code_issue,
)

PER_CHANNEL = 3
# Every channel but email, which most demo members already prefer by default.
CHANNELS = (Channel.TELEGRAM, Channel.VIBER, Channel.PUSH, Channel.SMS)


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _push_keys(member_id: int) -> tuple[str, str]:
    """A well-formed (made-up) P-256 public key and auth secret for a member."""
    digest = hashlib.sha512(f"demo-push-{member_id}".encode()).digest()
    return _b64url(b"\x04" + digest), _b64url(digest[:16])


def _reach(member: Member, channel: str) -> None:
    if channel == Channel.TELEGRAM:
        _code_row, code = telegram_link_code_issue(member=member)
        telegram_link(code=code, chat_id=str(700_000_000 + member.pk))
        source = ConsentSource.TELEGRAM
    elif channel == Channel.PUSH:
        p256dh, auth = _push_keys(member.pk)
        push_subscription_save(
            member=member,
            endpoint=f"https://push.example.invalid/demo/{member.pk}",
            p256dh=p256dh,
            auth=auth,
            user_agent="Demo phone browser",
        )
        source = ConsentSource.PORTAL
    else:  # Viber and SMS go to the member's phone
        source = ConsentSource.PORTAL
    member.refresh_from_db()
    member_consent_set(member=member, channel=channel, granted=True, source=source)
    member_update_profile(member=member, preferred_channel=channel)


def seed(*, command) -> dict[str, int]:
    """PER_CHANNEL members for each of CHANNELS, the first members with a phone
    and no login of their own (the demo customer keeps what the tour shows).
    Returns how many prefer each channel afterwards."""
    candidates = list(
        Member.objects.filter(user__isnull=True, preferred_channel="")
        .exclude(phone="")
        .order_by("pk")[: PER_CHANNEL * len(CHANNELS)]
    )
    for k, member in enumerate(candidates):
        _reach(member, CHANNELS[k // PER_CHANNEL])
    counts = {
        channel: Member.objects.filter(preferred_channel=channel).count()
        for channel in Channel.values
    }
    command.stdout.write(
        "Channels: members who prefer "
        + ", ".join(f"{channel} {n}" for channel, n in counts.items())
    )
    return counts
