"""Tiers for purchases_record_batch (rewards.services.purchase_batches): when a
receipt of the batch surely moves no tier, and the moves of those that may,
decided as tier_upgrade decides them."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal

from rewards.earn_config import EarnConfig
from rewards.models import (
    LedgerEntry,
    LedgerKind,
    PointsAccount,
    Purchase,
    TierQualification,
)
from rewards.selectors.tiers import tier_values, tier_window_start
from rewards.services.tiers import tier_move_up, tier_upgrade


def tier_bounds(
    held: EarnConfig, member_ids: list[int], at: dt.datetime
) -> dict[int, dict[int, Decimal]]:
    """{member: {tier pk: an upper bound of the tier's value at any time from
    `at` on, before the batch's receipts}}: the window starting earliest (at
    `at`, the member's first receipt to come) and with no end."""
    tiers = list(held.tiers)
    values = tier_values(member_ids=member_ids, tiers=tiers, at=at) if tiers else {}
    return {
        m: {
            t.pk: (values[t.pk][m].value if m in values[t.pk] else Decimal(0))
            for t in tiers
        }
        for m in member_ids
    }


def tier_sure(held: EarnConfig, account: PointsAccount, bound: dict) -> bool:
    """Whether tier_upgrade after the receipt just added to `bound` surely does
    nothing (it is not called then): no tier above reached, no lapsed tier to
    renew, no switched-off tier to read."""
    if account.tier_lapsed_on is not None:
        return False
    tiers = list(held.tiers)
    current = next((t for t in tiers if t.pk == account.tier_id), None)
    if account.tier_id is not None and current is None:
        return False
    return all(
        bound[t.pk] < t.threshold
        for t in tiers
        if current is None or t.rank > current.rank
    )


def tier_bound_add(held: EarnConfig, bound: dict, total: Decimal, points: int) -> None:
    """Add a receipt of `total` earning `points` to `bound`."""
    for tier in held.tiers:
        if tier.qualification == TierQualification.SPEND:
            bound[tier.pk] += total
        elif tier.qualification == TierQualification.POINTS_EARNED:
            bound[tier.pk] += points
        else:
            bound[tier.pk] += 1


def tiers_upgrade_many(
    held: EarnConfig, todo: list[tuple[PointsAccount, dt.datetime]]
) -> list[int]:
    """tier_upgrade(account, at=...) for each, the values of all of them read
    in one query per qualification (tier_upgrade reads one member's): the
    same values (sums over the same rows, with no end), the same highest
    qualifying tier above the member's, the same tier_move. A lapsed or
    switched-off tier goes through tier_upgrade itself. Returns the members
    moved."""
    tiers = list(held.tiers)
    by_pk = {t.pk: t for t in tiers}
    moved, plain = [], []
    for account, at in todo:
        if account.tier_lapsed_on is not None or (
            account.tier_id is not None and account.tier_id not in by_pk
        ):
            if tier_upgrade(account, member_id=account.member_id, tiers=tiers, at=at):
                moved.append(account.member_id)
        else:
            plain.append((account, at))
    if not plain or not tiers:
        return moved
    ids = [account.member_id for account, _at in plain]
    earliest = min(tier_window_start(t, at=min(at for _a, at in plain)) for t in tiers)
    kinds = {t.qualification for t in tiers}
    purchases: dict[int, list] = defaultdict(list)
    if kinds - {TierQualification.POINTS_EARNED}:
        for member_id, when, total, returned in Purchase.objects.filter(
            member_id__in=ids, occurred_at__gte=earliest
        ).values_list("member_id", "occurred_at", "total", "returned_total"):
            purchases[member_id].append((when, total - returned))
    earned: dict[int, list] = defaultdict(list)
    if TierQualification.POINTS_EARNED in kinds:
        for member_id, when, points in LedgerEntry.objects.filter(
            account__member_id__in=ids, kind=LedgerKind.EARN, created_at__gte=earliest
        ).values_list("account__member_id", "created_at", "points"):
            earned[member_id].append((when, points))
    for account, at in plain:
        member_id = account.member_id
        current = by_pk.get(account.tier_id)
        best, best_value = None, None
        for tier in tiers:
            if current is not None and tier.rank <= current.rank:
                continue
            start = tier_window_start(tier, at=at)
            if tier.qualification == TierQualification.POINTS_EARNED:
                value = Decimal(
                    sum(p for when, p in earned[member_id] if when >= start)
                )
            elif tier.qualification == TierQualification.SPEND:
                value = sum(
                    (v for when, v in purchases[member_id] if when >= start),
                    Decimal(0),
                )
            else:
                value = Decimal(
                    sum(1 for when, _v in purchases[member_id] if when >= start)
                )
            if value >= tier.threshold:  # ascending rank: the last is the highest
                best, best_value = tier, value
        if best is not None:
            tier_move_up(
                account, member_id=member_id, to_tier=best, value=best_value, at=at
            )
            moved.append(member_id)
    return moved
