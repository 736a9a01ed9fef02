"""Row locks for points, always taken in one order:
member (members/locks.py: member_lock, then its one-time code), account,
subscription, purchase, stamp card, reward, voucher, adjustment request, staff user.
Rows of one kind are locked by pk.

Every service that changes a balance locks the account through here, so two
writers on one member queue behind each other instead of deadlocking.
"""

from __future__ import annotations

from rewards.models import (
    PointsAccount,
    Purchase,
    Reward,
    StampCard,
    Subscription,
    Voucher,
)


def account_lock(*, member_id: int) -> PointsAccount:
    return PointsAccount.objects.select_for_update(of=("self",)).get(
        member_id=member_id
    )


def account_lock_by_id(*, account_id: int) -> PointsAccount:
    """The same lock as account_lock, for jobs that start from an account."""
    return PointsAccount.objects.select_for_update(of=("self",)).get(pk=account_id)


def purchase_lock(*, purchase_id: int) -> Purchase:
    return Purchase.objects.select_for_update(of=("self",)).get(pk=purchase_id)


def stamp_cards_lock(*, member_id: int, program_ids: list[int]) -> list[StampCard]:
    """The member's open cards of these programs, by pk. Callers hold the account lock."""
    return list(
        StampCard.objects.select_for_update(of=("self",))
        .filter(member_id=member_id, program_id__in=program_ids, status="open")
        .order_by("pk")
    )


def stamp_card_lock(*, card_id: int) -> StampCard:
    return StampCard.objects.select_for_update(of=("self",)).get(pk=card_id)


def reward_lock(*, reward_id: int) -> Reward:
    return Reward.objects.select_for_update(of=("self",)).get(pk=reward_id)


def voucher_lock(*, voucher_id: int) -> Voucher:
    return Voucher.objects.select_for_update(of=("self",)).get(pk=voucher_id)


def adjustment_request_lock(*, adjustment_id: int):
    """Taken inside points_adjust's transaction (after the account) on approval,
    or alone on refusal."""
    from rewards.models import AdjustmentRequest

    return AdjustmentRequest.objects.select_for_update(of=("self",)).get(
        pk=adjustment_id
    )


def staff_user_lock(*, user_id: int) -> None:
    """Serializes one cashier's Counter writes while their daily limit is counted."""
    from members.models import User

    User.objects.select_for_update(of=("self",)).filter(pk=user_id).first()


def subscription_lock(*, subscription_id: int) -> Subscription:
    """After the member's account: a membership sale or cancellation also moves
    the tier and issues vouchers, which need the account."""
    return Subscription.objects.select_for_update(of=("self",)).get(pk=subscription_id)
