"""Web push as a channel of members.messages: whether it is configured here
(VAPID keys; the Outbox rule is members.messages.channel_available's) and a member's address on it.

A member's web push "address" is their subscribed browsers (PushSubscription,
one per device); the message goes to all of them. The address written on the
message is how many there were, read from the denormalised
Member.push_devices, so the campaign fan-out (one call per member) needs no
query for it. Registered from MembersConfig.ready().
"""

from __future__ import annotations

import base64
import binascii

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.conf import settings

from members.models import Channel, Member


def push_keys_configured() -> bool:
    """True when both VAPID keys are set: browsers can subscribe."""
    return bool(settings.VAPID_PUBLIC_KEY and settings.VAPID_PRIVATE_KEY)


def push_address(member: Member) -> str:
    """ "2 devices" for a member subscribed in two browsers; "" for none."""
    count = member.push_devices or 0
    if not count:
        return ""
    return f"{count} device" if count == 1 else f"{count} devices"


def push_register() -> None:
    from django.core.checks import Tags, register

    from members.messages import channel_address_register, channel_available_register

    channel_address_register(Channel.PUSH, push_address)
    channel_available_register(
        Channel.PUSH, push_keys_configured, backend_setting="LOYALTY_PUSH_BACKEND"
    )
    register(vapid_keys_check, Tags.security)


def vapid_keys_check(app_configs=None, **kwargs) -> list:
    """An Error when one VAPID key is set without the other, when the private
    key cannot be read, or when the public key is not the private key's (the
    browsers would subscribe with a key the pushes are not signed with, and
    every push would be refused)."""
    from django.core.checks import Error

    private, public = settings.VAPID_PRIVATE_KEY, settings.VAPID_PUBLIC_KEY
    if not private and not public:
        return []
    hint = "Make a pair with `python manage.py make_vapid_keys` (docs/operations.md)."
    if not (private and public):
        return [
            Error(
                "Only one of VAPID_PUBLIC_KEY and VAPID_PRIVATE_KEY is set.",
                hint=hint,
                id="members.E001",
            )
        ]
    try:
        key = ec.derive_private_key(
            int.from_bytes(_b64url_decode(private), "big"), ec.SECP256R1()
        )
    except ValueError:
        return [
            Error(
                "VAPID_PRIVATE_KEY is not a base64url P-256 private key.",
                hint=hint,
                id="members.E001",
            )
        ]
    derived = key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    if _b64url(derived) != public.rstrip("="):
        return [
            Error(
                "VAPID_PUBLIC_KEY is not the public half of VAPID_PRIVATE_KEY.",
                hint=hint,
                id="members.E001",
            )
        ]
    return []


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


def _b64url_decode(text: str) -> bytes:
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as exc:
        raise ValueError(str(exc)) from None
    if len(raw) != 32:
        raise ValueError("a P-256 private key has 32 bytes")
    return raw


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
