"""Web push as a channel of members.messages: whether it is configured here
(VAPID keys, or the development outbox) and a member's address on it.

A member's web push "address" is their subscribed browsers (PushSubscription,
one per device); the message goes to all of them. The address written on the
message is how many there were, read from the denormalised
Member.push_devices, so the campaign fan-out (one call per member) needs no
query for it. Registered from MembersConfig.ready().
"""

from __future__ import annotations

import base64

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.conf import settings

from members.models import Channel, Member

OUTBOX_BACKEND = "campaigns.messaging.backends.push.OutboxPushBackend"


def push_keys_configured() -> bool:
    """True when both VAPID keys are set: browsers can subscribe."""
    return bool(settings.VAPID_PUBLIC_KEY and settings.VAPID_PRIVATE_KEY)


def push_available() -> bool:
    """Web push can be used here: VAPID keys are set, or (development) the
    outbox keeps push messages instead of sending them."""
    return push_keys_configured() or (
        settings.DEBUG and settings.LOYALTY_PUSH_BACKEND == OUTBOX_BACKEND
    )


def push_address(member: Member) -> str:
    """ "2 devices" for a member subscribed in two browsers; "" for none."""
    count = member.push_devices or 0
    if not count:
        return ""
    return f"{count} device" if count == 1 else f"{count} devices"


def push_register() -> None:
    from members.messages import channel_address_register, channel_available_register

    channel_address_register(Channel.PUSH, push_address)
    channel_available_register(Channel.PUSH, push_available)


def push_optin_context(member: Member) -> dict | None:
    """What the "Turn on notifications" box needs (templates/members/
    _push_optin.html); None when web push cannot be turned on here (no VAPID
    keys: the box is not shown at all)."""
    if not push_keys_configured():
        return None
    from django.urls import reverse

    return {
        "public_key": settings.VAPID_PUBLIC_KEY,
        "subscribe_url": reverse("portal:push_subscribe"),
        "unsubscribe_url": reverse("portal:push_unsubscribe"),
        "service_worker_url": reverse("service_worker"),
        "devices": member.push_devices,
        "offers": member.push_consent,
    }


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def vapid_keys_new() -> tuple[str, str]:
    """(private, public) of a new P-256 key pair, base64url without padding:
    the 32-byte scalar (VAPID_PRIVATE_KEY, as pywebpush reads it) and the
    65-byte uncompressed point (VAPID_PUBLIC_KEY, the applicationServerKey
    browsers subscribe with)."""
    key = ec.generate_private_key(ec.SECP256R1())
    private = key.private_numbers().private_value.to_bytes(32, "big")
    public = key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return _b64url(private), _b64url(public)
