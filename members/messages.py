"""Messages to members: the one channel rule, and the way this app sends one.

`member_channel` is the only place that decides whether a member gets a
message by email or by SMS. Every sender uses it: campaigns, journeys, event
notices, complaint replies, survey invitations and one-time codes (through
`campaigns.messaging.services.message_send`, which calls it when it writes the message,
and the campaign fan-out, which writes its messages in bulk). It lives here,
next to `Member.preferred_channel`, so that every app can reach it.

Sending itself belongs to the campaigns app (the message log, consent, quiet
hours, the backends), which sits above this one: members may not import it.
So members sends through `message_send` below, and campaigns plugs its sender
in from `CampaignsConfig.ready()` (`message_sender_register`).
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from members.models import Channel, Member

# The member's address on each channel. A channel whose address lives outside
# Member (web push subscriptions) registers its own (channel_address_register).
_ADDRESSES: dict[str, Callable[[Member], str]] = {
    Channel.EMAIL: lambda member: member.email or "",
    Channel.SMS: lambda member: member.phone or "",
    Channel.VIBER: lambda member: member.phone or "",
    Channel.TELEGRAM: lambda member: member.telegram_chat_id or "",
}
# Whether a channel can be used at all here. Email and SMS always can (the
# outbox backends under `make run`); the others register, when they plug in,
# the setting that names their backend class and a check that their real
# provider is configured (a bot token, provider keys, VAPID keys).
_AVAILABLE: dict[str, tuple[str, Callable[[], bool]]] = {}


def channel_address_register(channel: str, address: Callable[[Member], str]) -> None:
    """Say how to find a member's address on `channel` (from an AppConfig.ready())."""
    _ADDRESSES[channel] = address


def channel_available_register(
    channel: str, configured: Callable[[], bool], *, backend_setting: str
) -> None:
    """Say how to tell whether `channel` is usable (from an AppConfig.ready()):
    `backend_setting` names the setting holding its backend's class path,
    `configured` says whether its real provider is set up."""
    _AVAILABLE[channel] = (backend_setting, configured)


def channel_available(channel: str) -> bool:
    """True when messages can leave by `channel` on this installation. The one
    rule for every channel: a development Outbox backend (a class named
    Outbox...) is offered only under DEBUG (`make run`), never to real
    customers; any other backend when its provider is configured."""
    if channel in (Channel.EMAIL, Channel.SMS):
        return True
    entry = _AVAILABLE.get(channel)
    if entry is None:
        return False
    backend_setting, configured = entry
    backend = getattr(settings, backend_setting)
    if backend.rpartition(".")[2].startswith("Outbox"):
        return bool(settings.DEBUG)
    return bool(configured())


def channels_available() -> list[str]:
    """The channels this installation can send by, in Channel's order."""
    return [c for c in Channel.values if channel_available(c)]


def member_address(member: Member, channel: str) -> str:
    """The member's address on `channel` ("" when they have none, or when the
    channel is not configured here)."""
    address = _ADDRESSES.get(channel)
    if address is None or not channel_available(channel):
        return ""
    return address(member)


def member_channel(
    member: Member, *, channel: str | None = None, marketing: bool = False
) -> str | None:
    """The channel a message to `member` goes by; None when there is nothing
    to send it to. The one rule for every sender:

    1. An explicit `channel` (a campaign or journey set to one channel, a
       one-time code verifying that address, a test send to a staff address)
       is kept, even when the member has no address on it: the text was
       written for that channel (an SMS has no subject; a code must reach the
       address it verifies), so it never goes out on the other one. The
       message is then recorded as suppressed, "no address for this channel".
    2. Otherwise the member's preferred channel when they have that address,
       else email when they have one, else SMS when they have a phone.
    3. For a marketing message, the channels the member agreed to come first
       in that same order (a marketing message on a channel without consent is
       suppressed when delivered); only when they agreed to none is the first
       channel with an address chosen, and delivery suppresses it and says why.
    """
    if channel:
        return channel
    order = [member.preferred_channel] if member.preferred_channel else []
    order += [Channel.EMAIL, Channel.SMS]
    reachable = [c for c in dict.fromkeys(order) if member_address(member, c)]
    if marketing:
        for candidate in reachable:
            if getattr(member, f"{candidate}_consent"):
                return candidate
    return reachable[0] if reachable else None


# --- the extension point: the app that sends messages plugs in here ----------------

_sender: Callable | None = None


def message_sender_register(sender: Callable) -> None:
    """Set the function that writes and delivers a message to a member
    (`campaigns.messaging.services.message_send`, from CampaignsConfig.ready())."""
    global _sender
    _sender = sender


def message_send(**kwargs):
    """Send a message to a member through the registered sender; the keyword
    arguments and the result are those of `campaigns.messaging.services.message_send`."""
    if _sender is None:
        raise ImproperlyConfigured(
            "No message sender is registered (is the campaigns app installed?)."
        )
    return _sender(**kwargs)
