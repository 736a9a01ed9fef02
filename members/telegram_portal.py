"""What the preferences page shows about Telegram (members.telegram_views
links and unlinks)."""

from __future__ import annotations

from django.conf import settings
from django.utils import timezone

from members.messages import channel_available
from members.models import Channel, Member, OneTimeCode

# The session keeps the raw link code until it is used or expires.
SESSION_KEY = "telegram_link"


def telegram_block(request, member: Member) -> dict | None:
    """What the preferences page shows about Telegram; None when the channel
    is not configured here."""
    if not channel_available(Channel.TELEGRAM):
        return None
    block = {"linked": bool(member.telegram_chat_id), "code": None, "link": None}
    pending = request.session.get(SESSION_KEY)
    if pending and not block["linked"]:
        otp = OneTimeCode.objects.filter(
            pk=pending.get("otp_id"),
            member=member,
            used_at__isnull=True,
            expires_at__gt=timezone.now(),
        ).first()
        if otp is not None:
            block["code"] = pending["code"]
            block["expires_at"] = otp.expires_at
            if settings.TELEGRAM_BOT_USERNAME:
                block["link"] = (
                    f"https://t.me/{settings.TELEGRAM_BOT_USERNAME}"
                    f"?start={pending['code']}"
                )
    block["bot"] = settings.TELEGRAM_BOT_USERNAME
    return block
