"""Tiers: the earn multiplier, upgrades at once and nightly downgrades after grace."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from members.models import Member
from rewards import reasons
from rewards.locks import account_lock
from rewards.models import (
    PointsAccount,
    Tier,
    TierHistory,
    TierQualification,
    TierWindow,
)
from rewards.reasons import SystemReason, reason_split, system_reason
from rewards.selectors.memberships import membership_guaranteed_ranks
from rewards.selectors.program import program_settings_get
from rewards.selectors.tiers import ZERO_VALUE, TierValue, tier_values, tiers_active
from rewards.services.webhook_events import tier_changed_record
from rewards.wallet.services import wallet_pass_changed

# --- tiers -----------------------------------------------------------------------------

RATE_PLACES = Decimal("0.0001")  # what Purchase.points_per_unit holds


# (reason code in a calendar year, in the last months) by what a tier counts.
_TIER_REASONS = {
    TierQualification.SPEND: (reasons.TIER_SPEND_YEAR, reasons.TIER_SPEND_MONTHS),
    TierQualification.POINTS_EARNED: (
        reasons.TIER_POINTS_YEAR,
        reasons.TIER_POINTS_MONTHS,
    ),
    TierQualification.VISITS: (reasons.TIER_VISITS_YEAR, reasons.TIER_VISITS_MONTHS),
}
_TIER_VALUE_PARAM = {
    TierQualification.SPEND: "amount",
    TierQualification.POINTS_EARNED: "points",
    TierQualification.VISITS: "visits",
}


def _tier_currency(tier: Tier) -> dict:
    """The currency parameter of a spend tier's amounts (none for points, visits)."""
    if tier.qualification == TierQualification.SPEND:
        return {"currency": program_settings_get().currency}
    return {}


def _tier_reason(tier: Tier, value: Decimal, *, at: dt.datetime) -> SystemReason:
    in_year, in_months = _TIER_REASONS[tier.qualification]
    measure = _TIER_VALUE_PARAM[tier.qualification]
    if tier.qualification == TierQualification.SPEND:
        value = value.quantize(Decimal("0.01"))  # as TierHistory.value keeps it
    else:
        value = value.to_integral_value()
    params = {measure: value, **_tier_currency(tier)}
    if tier.window == TierWindow.CALENDAR_YEAR:
        return system_reason(in_year, year=timezone.localtime(at).year, **params)
    return system_reason(in_months, months=tier.window_months, **params)


def tier_move(
    account: PointsAccount,
    *,
    member_id: int,
    to_tier: Tier | None,
    kind: str,
    reason: SystemReason,
    value: Decimal,
    at: dt.datetime,
) -> TierHistory:
    """Set the account's tier and write its history row. The account must be locked."""
    code, params, text = reason_split(reason)
    entry = TierHistory.objects.create(
        member_id=member_id,
        from_tier_id=account.tier_id,
        to_tier=to_tier,
        kind=kind,
        reason=text,
        reason_code=code,
        reason_params=params,
        value=value,
        created_at=at,
    )
    account.tier = to_tier
    account.tier_since = at
    account.tier_lapsed_on = None
    account.save(update_fields=["tier", "tier_since", "tier_lapsed_on", "updated_at"])
    wallet_pass_changed(member_id=member_id)
    tier_changed_record(history=entry)
    return entry


def tier_move_up(
    account: PointsAccount,
    *,
    member_id: int,
    to_tier: Tier,
    value: Decimal,
    at: dt.datetime,
) -> TierHistory:
    """Move the member up to `to_tier`, which their `value` qualifies for (their
    first tier when they have none), with the reason the statement shows. The
    account must be locked."""
    return tier_move(
        account,
        member_id=member_id,
        to_tier=to_tier,
        kind=TierHistory.Kind.INITIAL
        if account.tier_id is None
        else TierHistory.Kind.UP,
        reason=_tier_reason(to_tier, value, at=at),
        value=value,
        at=at,
    )


def tiers_to_check(
    account: PointsAccount, *, tiers: list[Tier]
) -> tuple[list[Tier], list[Tier], Tier | None]:
    """(the tiers above the member's, the tiers whose values tier_upgrade
    reads, the member's current tier among `tiers`)."""
    if not tiers:
        return [], [], None
    current = next((t for t in tiers if t.pk == account.tier_id), None)
    if account.tier_id is not None and current is None:  # tier switched off
        floor = Tier.objects.values_list("rank", flat=True).get(pk=account.tier_id)
    else:
        floor = current.rank if current else None
    above = [t for t in tiers if floor is None or t.rank > floor]
    check = above + ([current] if current and account.tier_lapsed_on else [])
    return above, check, current


def tier_upgrade(
    account: PointsAccount,
    *,
    member_id: int,
    tiers: list[Tier],
    at: dt.datetime,
    values: dict[int, dict[int, TierValue]] | None = None,
    checked: tuple[list[Tier], list[Tier], Tier | None] | None = None,
) -> Tier | None:
    """Move the member up to the highest tier they qualify for; never down.
    The account must be locked. Returns the new tier, or None when unchanged.
    `values` and `checked`, when given, are what tier_values and
    tiers_to_check would give (a purchase reads the values with its write:
    rewards.selectors.tiers.tier_value_subqueries)."""
    above, check, current = checked or tiers_to_check(account, tiers=tiers)
    if not check:
        return None
    if values is None:
        values = tier_values(member_ids=[member_id], tiers=check, at=at)
    best = None
    for tier in above:  # ascending rank: the last qualifying one is the highest
        if values[tier.pk].get(member_id, ZERO_VALUE).value >= tier.threshold:
            best = tier
    if best is not None:
        value = values[best.pk].get(member_id, ZERO_VALUE).value
        tier_move_up(account, member_id=member_id, to_tier=best, value=value, at=at)
        return best
    kept = (
        current is not None
        and account.tier_lapsed_on is not None
        and values[current.pk].get(member_id, ZERO_VALUE).value >= current.threshold
    )
    if kept:
        account.tier_lapsed_on = None  # qualifies again: no downgrade pending
        account.save(update_fields=["tier_lapsed_on", "updated_at"])
    return None


def tier_evaluate(*, member: Member, at: dt.datetime | None = None) -> Tier | None:
    """Move the member up at once to the highest tier they qualify for.

    Locks the member's account; writes TierHistory in the same transaction.
    Never moves down (that is tiers_downgrade_due). Returns the new tier, or
    None when it did not change. Queues nothing."""
    with transaction.atomic(durable=True):
        account = account_lock(member_id=member.pk)
        return tier_upgrade(
            account, member_id=member.pk, tiers=tiers_active(), at=at or timezone.now()
        )


def _day_end(day: dt.date) -> dt.datetime:
    start = timezone.make_aware(dt.datetime.combine(day, dt.time.min))
    return start + dt.timedelta(days=1) - dt.timedelta(microseconds=1)


def _tier_downgrade_one(
    *, account_id: int, member_id: int, tier_id: int, tiers: list[Tier], at
) -> bool:
    """One member one step down, re-checked under the account lock."""
    with transaction.atomic(durable=True):
        account = account_lock(member_id=member_id)
        if account.tier_id != tier_id or (
            account.tier_since
            and timezone.localtime(account.tier_since).date()
            == timezone.localtime(at).date()
        ):
            return False  # moved meanwhile, or already today
        current = next(t for t in tiers if t.pk == tier_id)
        # --- paid membership: never below the plan's guaranteed tier ---
        guaranteed = membership_guaranteed_ranks(member_ids=[member_id], at=at)
        if guaranteed.get(member_id, 0) >= current.rank:
            return False
        value = (
            tier_values(member_ids=[member_id], tiers=[current], at=at)[current.pk]
            .get(member_id, ZERO_VALUE)
            .value
        )
        if value >= current.threshold:
            return False
        lower = [t for t in tiers if t.rank < current.rank]
        to_tier = lower[-1] if lower else None
        reason = system_reason(
            reasons.TIER_BELOW,
            value=_tier_reason(current, value, at=at),
            threshold=current.threshold,
            tier_id=current.pk,
            tier=current.name,
            grace_days=current.grace_days,
            **_tier_currency(current),
        )
        tier_move(
            account,
            member_id=member_id,
            to_tier=to_tier,
            kind=TierHistory.Kind.DOWN,
            reason=reason,
            value=value,
            at=at,
        )
        return True


def tiers_downgrade_due(*, today: dt.date | None = None, batch: int = 500) -> int:
    """Nightly: move members whose value fell below their tier ONE step down, once
    the tier's grace days have passed since they were first found below it (and
    since they got the tier). Returns how many moved.

    Selection in chunks of `batch` accounts: one aggregate per tier per chunk,
    one bulk update to start or clear the grace period. Each move is its own
    transaction locking the member's account and re-checking. A member moved
    today is not moved again, so a second run the same day moves nobody. Queues
    nothing."""
    today = today or timezone.localdate()
    at = _day_end(today)
    tiers = tiers_active()
    by_pk = {t.pk: t for t in tiers}
    moved, last_pk = 0, 0
    while True:
        rows = list(
            PointsAccount.objects.filter(pk__gt=last_pk, tier_id__in=by_pk)
            .order_by("pk")
            .values_list("pk", "member_id", "tier_id", "tier_since", "tier_lapsed_on")[
                :batch
            ]
        )
        if not rows:
            return moved
        last_pk = rows[-1][0]
        groups: dict[int, list[int]] = {}
        for _pk, member_id, tier_id, _since, _lapsed in rows:
            groups.setdefault(tier_id, []).append(member_id)
        values: dict[int, dict[int, object]] = {}
        for tier_id, member_ids in groups.items():
            tier = by_pk[tier_id]
            values.update(tier_values(member_ids=member_ids, tiers=[tier], at=at))
        start_grace, clear_grace, due = [], [], []
        # Paid membership: a member whose plan guarantees this tier (or a
        # higher one) is not below it; the grace period starts after expiry.
        guaranteed = membership_guaranteed_ranks(
            member_ids=[row[1] for row in rows], at=at
        )
        for pk, member_id, tier_id, since, lapsed in rows:
            tier = by_pk[tier_id]
            value = values[tier_id].get(member_id, ZERO_VALUE).value
            if value >= tier.threshold or guaranteed.get(member_id, 0) >= tier.rank:
                if lapsed is not None:
                    clear_grace.append(pk)
                continue
            since_day = timezone.localtime(since).date() if since else today
            if since_day >= today:
                continue
            if lapsed is None:
                start_grace.append(pk)
                lapsed = today
            if today >= max(lapsed, since_day) + dt.timedelta(days=tier.grace_days):
                due.append((pk, member_id, tier_id))
        if clear_grace:
            PointsAccount.objects.filter(pk__in=clear_grace).update(tier_lapsed_on=None)
        if start_grace:
            PointsAccount.objects.filter(
                pk__in=start_grace, tier_lapsed_on__isnull=True
            ).update(tier_lapsed_on=today)
        for pk, member_id, tier_id in due:
            moved += _tier_downgrade_one(
                account_id=pk, member_id=member_id, tier_id=tier_id, tiers=tiers, at=at
            )
        if len(rows) < batch:
            return moved


def tier_save(*, tier: Tier) -> Tier:
    """Create or change a tier (admin, seed data). Validates, writes the row only:
    members move when they next buy (up) or at the nightly check (down). Locks
    and queues nothing."""
    tier.full_clean()
    tier.save()
    return tier
