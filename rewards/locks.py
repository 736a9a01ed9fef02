"""Row locks for points, always taken in one order:
member, account, subscription, purchase, reward, voucher.

Every service that changes a balance locks the account through here, so two
writers on one member queue behind each other instead of deadlocking.
"""

from __future__ import annotations

from rewards.models import PointsAccount, Purchase, Reward, Subscription, Voucher


def account_lock(*, member_id: int) -> PointsAccount:
    return PointsAccount.objects.select_for_update(of=("self",)).get(
        member_id=member_id
    )


def purchase_lock(*, purchase_id: int) -> Purchase:
    return Purchase.objects.select_for_update(of=("self",)).get(pk=purchase_id)


def reward_lock(*, reward_id: int) -> Reward:
    return Reward.objects.select_for_update(of=("self",)).get(pk=reward_id)


def voucher_lock(*, voucher_id: int) -> Voucher:
    return Voucher.objects.select_for_update(of=("self",)).get(pk=voucher_id)


def subscription_lock(*, subscription_id: int) -> Subscription:
    """After the member's account: a membership sale or cancellation also moves
    the tier and issues vouchers, which need the account."""
    return Subscription.objects.select_for_update(of=("self",)).get(pk=subscription_id)
