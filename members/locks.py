"""Row locks on members' rows: members, one-time codes, a member's login. The
order is in rewards/locks.py.

A check that counts what was done for a member against a cap or threshold (codes
sent this hour, referrals this month, what one staff member adjusted in 24 hours)
runs under the member's lock, so two requests cannot both read the count from
before the other's write.

Last of all, after every other lock of the transaction, a member's webhook
sequence row (`webhook_sequence_next`); a delivery in the outbox is claimed
alone (`webhook_deliveries_due_lock`, `webhook_delivery_lock`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.db import IntegrityError, transaction
from django.db.models import Exists, F, OuterRef, Q

from members.models import (
    DeliveryStatus,
    Member,
    OneTimeCode,
    User,
    WebhookDelivery,
    WebhookSequence,
)


def member_lock(*, member_id: int) -> Member:
    """The member's row, locked until the caller's transaction ends; taken first.

    Raises Member.DoesNotExist when there is no such member."""
    return Member.objects.select_for_update(of=("self",)).get(pk=member_id)


def member_lock_or_none(*, member_id: int) -> Member | None:
    """The member's row, or None when there is no such member; taken first."""
    return Member.objects.select_for_update(of=("self",)).filter(pk=member_id).first()


def members_lock(*, member_ids: Iterable[int]) -> list[Member]:
    """Several members' rows, by pk; taken first."""
    return list(
        Member.objects.select_for_update(of=("self",))
        .filter(pk__in=member_ids)
        .order_by("pk")
    )


def one_time_code_lock(*, otp_id: int) -> OneTimeCode | None:
    """A one-time code's row, or None. After its member's lock."""
    return OneTimeCode.objects.select_for_update(of=("self",)).filter(pk=otp_id).first()


def login_user_lock(*, user_id: int) -> User:
    """A member's login (their User row). After its member's lock."""
    return User.objects.select_for_update(of=("self",)).get(pk=user_id)


def webhook_sequences_lock(*, member_ids) -> dict[int, WebhookSequence]:
    """The webhook sequence rows the members have, by member id, locked in pk
    order (the same place as webhook_sequence_next: last)."""
    return {
        row.member_id: row
        for row in WebhookSequence.objects.select_for_update()
        .filter(member_id__in=member_ids)
        .order_by("pk")
    }


def webhook_sequence_next(*, member_id: int) -> int:
    """The member's next webhook event number. The sequence row stays locked
    until the caller's transaction ends (taken last), so the member's events
    commit in the order of their numbers; a rollback gives the number back."""
    for _attempt in range(3):
        if WebhookSequence.objects.filter(member_id=member_id).update(
            last=F("last") + 1
        ):
            return WebhookSequence.objects.get(member_id=member_id).last
        try:
            with transaction.atomic():
                WebhookSequence.objects.create(member_id=member_id, last=1)
            return 1
        except IntegrityError:
            continue  # another transaction made the row first: count on it
    raise RuntimeError(f"No webhook sequence row for member {member_id}")


def webhook_deliveries_due_lock(
    *, now: dt.datetime, batch: int
) -> list[WebhookDelivery]:
    """Up to `batch` pending deliveries that are due by `now`, held by no
    worker, and first in their member's queue to their endpoint; rows another
    transaction has locked are skipped. Locked until the caller's transaction
    ends."""
    earlier = WebhookDelivery.objects.filter(
        endpoint_id=OuterRef("endpoint_id"),
        member_id=OuterRef("member_id"),
        sequence__lt=OuterRef("sequence"),
        status=DeliveryStatus.PENDING,
    )
    return list(
        WebhookDelivery.objects.select_for_update(skip_locked=True)
        .filter(status=DeliveryStatus.PENDING, next_attempt_at__lte=now)
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lte=now))
        .filter(~Exists(earlier))
        .order_by("next_attempt_at", "pk")[:batch]
    )


def webhook_delivery_lock(
    *, delivery_id: int, skip_locked: bool = False
) -> WebhookDelivery | None:
    """A delivery's row, locked (None when gone, or locked elsewhere with
    `skip_locked`). Taken alone."""
    return (
        WebhookDelivery.objects.select_for_update(skip_locked=skip_locked)
        .filter(pk=delivery_id)
        .first()
    )
