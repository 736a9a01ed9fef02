"""What rewards tells the webhook endpoints (members.services.webhooks): one
function per event, called in the transaction of the write it reports, after
that write's locks (the member's webhook sequence is locked last). The `data`
of each is documented in docs/api.md, "Webhooks"."""

from __future__ import annotations

import datetime as dt

from members.models import WebhookEventType
from members.services.webhooks import (
    WebhookEventInput,
    webhook_event_record,
    webhook_events_record_many,
)
from rewards.models import LedgerEntry, LedgerKind, Subscription, TierHistory, Voucher

# Ledger entries that are events, by kind; expiries, staff adjustments and the
# points a cancelled voucher gives back are not.
POINTS_EVENTS = {
    LedgerKind.EARN: WebhookEventType.POINTS_EARNED,
    LedgerKind.BONUS: WebhookEventType.POINTS_EARNED,
    LedgerKind.CLAWBACK: WebhookEventType.POINTS_RETURNED,
    LedgerKind.REDEEM: WebhookEventType.POINTS_REDEEMED,
}


def _when(moment: dt.datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def _points_data(entry: LedgerEntry) -> dict:
    return {
        "entry_id": entry.pk,
        "kind": entry.kind,
        "points": entry.points,
        "balance_after": entry.balance_after,
        "reason_code": entry.reason_code,
        "purchase_id": entry.purchase_id,
        "return_id": entry.purchase_return_id,
        "redemption_id": entry.redemption_id,
        "voucher_id": entry.voucher_id,
    }


def points_event_record(*, entry: LedgerEntry, member_id: int) -> None:
    """points.earned (a purchase or a bonus), points.returned (a return took
    them back) or points.redeemed, for a new ledger entry of those kinds."""
    event = POINTS_EVENTS.get(entry.kind)
    if event is None:
        return
    webhook_event_record(
        event=event, member=member_id, payload=_points_data(entry), at=entry.created_at
    )


def points_events_record_many(*, entries: list[LedgerEntry]) -> None:
    """points_event_record for entries just written together to the accounts of
    members created in the caller's transaction (bulk enrolment's bonuses), in
    list order, with a fixed number of statements."""
    webhook_events_record_many(
        events=[
            WebhookEventInput(
                type=POINTS_EVENTS[entry.kind],
                member_id=entry.account.member_id,
                data=_points_data(entry),
                at=entry.created_at,
            )
            for entry in entries
            if entry.kind in POINTS_EVENTS
        ]
    )


def _voucher_data(voucher: Voucher) -> dict:
    return {
        "voucher_id": voucher.pk,
        "code": voucher.code,
        "reward_id": voucher.reward_id,
        "source": voucher.source,
        "points_spent": voucher.points_spent,
        "issued_at": _when(voucher.issued_at),
        "expires_at": _when(voucher.expires_at),
    }


def voucher_issued_record(*, voucher: Voucher) -> None:
    """voucher.issued: bought with points or granted."""
    webhook_event_record(
        event=WebhookEventType.VOUCHER_ISSUED,
        member=voucher.member_id,
        payload=_voucher_data(voucher),
        at=voucher.issued_at,
    )


def voucher_consumed_record(*, voucher: Voucher) -> None:
    """voucher.consumed: used at a till."""
    store = voucher.used_store
    webhook_event_record(
        event=WebhookEventType.VOUCHER_CONSUMED,
        member=voucher.member_id,
        payload={
            **_voucher_data(voucher),
            "used_at": _when(voucher.used_at),
            "store": store.code if store is not None else None,
            "receipt_id": voucher.used_receipt_id,
        },
        at=voucher.used_at,
    )


def tier_changed_record(*, history: TierHistory) -> None:
    """tier.changed: one move between tiers (up, down or a membership's)."""
    webhook_event_record(
        event=WebhookEventType.TIER_CHANGED,
        member=history.member_id,
        payload={
            "from_tier_id": history.from_tier_id,
            "to_tier_id": history.to_tier_id,
            "to_tier": history.to_tier.name if history.to_tier_id else None,
            "kind": history.kind,
            "reason_code": history.reason_code,
        },
        at=history.created_at,
    )


def membership_event_record(
    *, subscription: Subscription, started: bool, at: dt.datetime
) -> None:
    """membership.started (a first sale, not a renewal) or membership.ended
    (expired or cancelled)."""
    webhook_event_record(
        event=(
            WebhookEventType.MEMBERSHIP_STARTED
            if started
            else WebhookEventType.MEMBERSHIP_ENDED
        ),
        member=subscription.member_id,
        payload={
            "subscription_id": subscription.pk,
            "plan_id": subscription.plan_id,
            "status": subscription.status,
            "started_at": _when(subscription.started_at),
            "period_end": _when(subscription.current_period_end),
            "ended_at": _when(subscription.ended_at),
        },
        at=at,
    )


def promo_code_used_record(
    *,
    member_id: int,
    promo_code_id: int,
    code: str,
    purchase_id: int | None = None,
    at: dt.datetime | None = None,
) -> None:
    """promo_code.used: the one call the promo-code service makes, in its
    transaction, after its locks, when a member's purchase used a code."""
    webhook_event_record(
        event=WebhookEventType.PROMO_CODE_USED,
        member=member_id,
        payload={
            "promo_code_id": promo_code_id,
            "code": code,
            "purchase_id": purchase_id,
        },
        at=at,
    )
