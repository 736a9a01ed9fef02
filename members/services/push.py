"""Web push subscriptions: a member turns notifications on or off in a
browser, and delivery reports what the push service said. Every write keeps
Member.push_devices equal to the member's count of subscriptions, in the same
transaction, under the member's lock."""

from __future__ import annotations

import base64
import binascii
from urllib.parse import urlsplit

from django.db import transaction
from django.db.models import Count, F
from django.utils import timezone
from django.utils.translation import gettext as _

from members.errors import InvalidInput
from members.locks import members_lock
from members.models import Member, PushSubscription

# Keys as the browser gives them (PushSubscription.toJSON()): base64url, an
# uncompressed P-256 point (65 bytes, starting with 4) and a 16-byte secret.
P256DH_BYTES = 65
AUTH_BYTES = 16


def _b64url_decode(value: str) -> bytes | None:
    try:
        return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError):
        return None


def push_input_validate(*, endpoint: str, p256dh: str, auth: str) -> None:
    """Raise InvalidInput naming the field when a subscription is malformed."""
    parts = urlsplit(endpoint or "")
    if parts.scheme != "https" or not parts.netloc or len(endpoint) > 1000:
        raise InvalidInput(
            _("The push endpoint must be an https address."), field="endpoint"
        )
    key = _b64url_decode(p256dh or "")
    if key is None or len(key) != P256DH_BYTES or key[0] != 4:
        raise InvalidInput(
            _("The p256dh key must be a base64url P-256 public key."), field="p256dh"
        )
    secret = _b64url_decode(auth or "")
    if secret is None or len(secret) != AUTH_BYTES:
        raise InvalidInput(
            _("The auth secret must be 16 bytes in base64url."), field="auth"
        )


def _devices_recount(member_ids: list[int]) -> None:
    """Member.push_devices = the count of their subscriptions (callers hold
    the members' locks)."""
    counts = dict(
        PushSubscription.objects.filter(member_id__in=member_ids)
        .values_list("member_id")
        .annotate(n=Count("pk"))
        .order_by()
    )
    for member_id in member_ids:
        Member.objects.filter(pk=member_id).update(
            push_devices=min(counts.get(member_id, 0), 32767)
        )


def push_subscription_save(
    *, member: Member, endpoint: str, p256dh: str, auth: str, user_agent: str = ""
) -> PushSubscription:
    """Keep the browser's push subscription for `member` (the portal's "Turn
    on notifications"). The same endpoint again replaces its keys; an
    endpoint another member had (the browser's next login) moves to this one.
    Does not grant marketing consent: that is the member's own tick in the
    preferences (members.services.member_consent_set). Locks the members
    concerned (by pk); queues nothing."""
    push_input_validate(endpoint=endpoint, p256dh=p256dh, auth=auth)
    with transaction.atomic():
        previous = (
            PushSubscription.objects.filter(endpoint=endpoint)
            .values_list("member_id", flat=True)
            .first()
        )
        ids = sorted({member.pk, *([previous] if previous else [])})
        members_lock(member_ids=ids)
        subscription, _created = PushSubscription.objects.update_or_create(
            endpoint=endpoint,
            defaults={
                "member": member,
                "p256dh": p256dh,
                "auth": auth,
                "user_agent": (user_agent or "")[:300],
                "failures": 0,
                "last_error": "",
            },
        )
        _devices_recount(ids)
    member.refresh_from_db(fields=["push_devices"])
    return subscription


def push_subscription_delete(*, member: Member, endpoint: str) -> bool:
    """Forget this member's subscription for `endpoint` (the portal's "Turn
    off notifications", or the browser dropped it). True when there was one.
    Locks the member; queues nothing. Consent is left as it is: without a
    device the member's push messages are simply not sent ("no address")."""
    with transaction.atomic():
        members_lock(member_ids=[member.pk])
        deleted, _detail = PushSubscription.objects.filter(
            member=member, endpoint=endpoint
        ).delete()
        _devices_recount([member.pk])
    member.refresh_from_db(fields=["push_devices"])
    return bool(deleted)


def push_subscription_gone(*, subscription_id: int) -> bool:
    """The push service answered 404 or 410 for this subscription: the
    browser unsubscribed or the subscription expired, so it is deleted.
    Locks its member; True when it was still there."""
    member_id = (
        PushSubscription.objects.filter(pk=subscription_id)
        .values_list("member_id", flat=True)
        .first()
    )
    if member_id is None:
        return False
    with transaction.atomic():
        members_lock(member_ids=[member_id])
        deleted, _detail = PushSubscription.objects.filter(pk=subscription_id).delete()
        _devices_recount([member_id])
    return bool(deleted)


def push_subscription_result_record(*, subscription_id: int, error: str = "") -> None:
    """What the push service said about one delivery: success (no `error`)
    stamps last_success_at and clears the failures; a failure counts one more.
    One UPDATE, no lock."""
    rows = PushSubscription.objects.filter(pk=subscription_id)
    if error:
        rows.update(failures=F("failures") + 1, last_error=error[:200])
    else:
        rows.update(last_success_at=timezone.now(), failures=0, last_error="")


def push_subscriptions_erase(member: Member) -> None:
    """Erasure: the member's browsers are forgotten (members.privacy)."""
    PushSubscription.objects.filter(member=member).delete()
    Member.objects.filter(pk=member.pk).update(push_devices=0)
    member.push_devices = 0
