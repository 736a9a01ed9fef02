"""Row locks for points, always taken in one order: member, account, purchase.

Every service that changes a balance locks the account through here, so two
writers on one member queue behind each other instead of deadlocking.
"""

from __future__ import annotations

from rewards.models import PointsAccount, Purchase


def account_lock(*, member_id: int) -> PointsAccount:
    return PointsAccount.objects.select_for_update(of=("self",)).get(
        member_id=member_id
    )


def purchase_lock(*, purchase_id: int) -> Purchase:
    return Purchase.objects.select_for_update(of=("self",)).get(pk=purchase_id)
