"""Signed links in messages: unsubscribe, the open pixel and tracked clicks.

A link carries the message's random token signed with the SECRET_KEY
(django.core.signing), one salt per purpose, so a pixel link cannot unsubscribe
and an edited link is refused. Click links name a link of the message by its
position, never a URL: the redirect can only go where the message pointed.
"""

from __future__ import annotations

import re

from django.core import signing
from django.urls import reverse

from members.links import absolute_url
from members.models import Channel

SALT_UNSUBSCRIBE = "campaigns.unsubscribe"
SALT_OPEN = "campaigns.open"
SALT_CLICK = "campaigns.click"

# http(s) links in a message's text; trailing punctuation belongs to the sentence.
LINK_RE = re.compile(r"https?://[^\s<>\"']+")
TRAILING = ".,;:!?)]}»"


def token_sign(token: str, *, salt: str) -> str:
    return signing.Signer(salt=salt).sign(token)


def token_unsign(value: str, *, salt: str) -> str | None:
    """The token inside a signed value, or None when it was tampered with."""
    try:
        return signing.Signer(salt=salt).unsign(value)
    except signing.BadSignature:
        return None


def absolute(path: str) -> str:
    return absolute_url(path)


def unsubscribe_url(token: str) -> str:
    signed = token_sign(token, salt=SALT_UNSUBSCRIBE)
    return absolute(reverse("campaigns:unsubscribe", args=[signed]))


def open_pixel_url(token: str) -> str:
    signed = token_sign(token, salt=SALT_OPEN)
    return absolute(reverse("campaigns:track_open", args=[signed]))


def click_url(token: str, index: int) -> str:
    signed = token_sign(token, salt=SALT_CLICK)
    return absolute(reverse("campaigns:track_click", args=[signed, index]))


def push_click_url(token: str) -> str:
    """Where a push notification's click goes: the tracked link to the first
    link of the message, or to the card page when it has none
    (`message_click_targets`)."""
    return click_url(token, 0)


def message_click_targets(message) -> list[str]:
    """Where a message's tracked click links may lead, by index: the links of
    its text; a web push without one opens the card page (a notification is
    clicked as a whole, so it always has somewhere to go)."""
    links = links_find(message.body)
    if not links and message.channel == Channel.PUSH:
        links = [absolute(reverse("portal:card"))]
    return links


def links_find(text: str) -> list[str]:
    """The http(s) links of a text, in order; the same text gives the same list."""
    return [match.rstrip(TRAILING) for match in LINK_RE.findall(text)]


# --- recording what happened to a message ----------------------------------------------


def message_by_signed(value: str, *, salt: str):
    """The message a signed link names, or None (tampered, or no such message)."""
    from campaigns.models import Message

    token = token_unsign(value, salt=salt)
    if token is None:
        return None
    return Message.objects.filter(token=token).first()


def message_open_record(*, message, at=None) -> bool:
    """The first open of a message sets opened_at; later ones change nothing.
    One conditional UPDATE, no lock. True when this call recorded it."""
    from django.utils import timezone

    from campaigns.models import Message

    return bool(
        Message.objects.filter(pk=message.pk, opened_at__isnull=True).update(
            opened_at=at or timezone.now()
        )
    )


def message_click_record(*, message, at=None) -> bool:
    """The first click sets clicked_at (and opened_at when the pixel was blocked,
    as a click proves the open). One conditional UPDATE each, no lock."""
    from django.utils import timezone

    from campaigns.models import Message

    at = at or timezone.now()
    Message.objects.filter(pk=message.pk, opened_at__isnull=True).update(opened_at=at)
    return bool(
        Message.objects.filter(pk=message.pk, clicked_at__isnull=True).update(
            clicked_at=at
        )
    )


def message_failure_record(*, message, reason: str, at=None) -> bool:
    """A bounce or a failed-delivery report after the hand-over: the message
    becomes failed with the provider's reason. A conditional UPDATE on status
    sent; True when it changed the message. A message still sending is left
    alone: its batch marks it sent right after the hand-over and stops when it
    finds the row changed (see messaging._hand_over_all); one left sending by a
    dead worker is failed by messages_recover_interrupted anyway."""
    from django.utils import timezone

    from campaigns.models import Message, MessageStatus

    return bool(
        Message.objects.filter(pk=message.pk, status=MessageStatus.SENT).update(
            status=MessageStatus.FAILED,
            failed_at=at or timezone.now(),
            error=reason[:200],
        )
    )
