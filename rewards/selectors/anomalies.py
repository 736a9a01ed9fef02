"""Anomaly monitoring, the reads: members and staff users with unusual activity
on a day.

One selector per rule, each a single SQL aggregate over the day (never a loop
over members); rewards.services.anomalies turns their rows into AnomalyFlags.
Thresholds live on StaffControls; 0 switches a rule off. Days are calendar days
in TIME_ZONE.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field

from django.db.models import (
    Count,
    Exists,
    F,
    IntegerField,
    Max,
    OuterRef,
    Q,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Abs, Coalesce
from django.utils import timezone

from members.models import Member, User
from rewards.models import (
    AnomalyRule,
    AnomalySubject,
    LedgerEntry,
    LedgerKind,
    Purchase,
    PurchaseReturn,
    Redemption,
    StaffControls,
    Voucher,
    VoucherStatus,
)
from rewards.selectors.controls import staff_controls_get

MANAGER_GROUP = "Manager"
# Ids kept in a flag's details, per kind: enough to start a review.
DETAIL_IDS = 20


@dataclass(frozen=True)
class AnomalyHit:
    """One subject that broke one rule on one day, as a selector found it."""

    rule: str
    subject_kind: str
    subject_id: int
    details: dict = field(default_factory=dict)


def _day_bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    tz = timezone.get_default_timezone()
    start = timezone.make_aware(dt.datetime.combine(day, dt.time.min), tz)
    end = timezone.make_aware(
        dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min), tz
    )
    return start, end


def _count(queryset, group_by: str):
    """A correlated COUNT(*) of `queryset` per outer row, 0 when there is none."""
    return Coalesce(
        Subquery(
            queryset.order_by()
            .values(group_by)
            .annotate(n=Count("pk"))
            .values("n")[:1],
            output_field=IntegerField(),
        ),
        Value(0),
    )


def anomaly_many_transactions_members(
    *, day: dt.date, threshold: int
) -> list[AnomalyHit]:
    """Members with more than `threshold` purchases and redemptions on `day`.

    Purchases count on the till's time (occurred_at), redemptions when recorded.
    """

    if threshold <= 0:
        return []
    start, end = _day_bounds(day)
    purchases = Purchase.objects.filter(
        member=OuterRef("pk"), occurred_at__gte=start, occurred_at__lt=end
    )
    redemptions = Redemption.objects.filter(
        member=OuterRef("pk"), created_at__gte=start, created_at__lt=end
    )
    rows = (
        Member.objects.filter(Exists(purchases) | Exists(redemptions))
        .annotate(
            n_purchases=_count(purchases, "member"),
            n_redemptions=_count(redemptions, "member"),
        )
        .annotate(total=F("n_purchases") + F("n_redemptions"))
        .filter(total__gt=threshold)
        .order_by("pk")
        .values_list("pk", "n_purchases", "n_redemptions")
    )
    return [
        AnomalyHit(
            rule=AnomalyRule.MANY_TRANSACTIONS,
            subject_kind=AnomalySubject.MEMBER,
            subject_id=pk,
            details={
                "purchases": n_purchases,
                "redemptions": n_redemptions,
                "threshold": threshold,
            },
        )
        for pk, n_purchases, n_redemptions in rows
    ]


def anomaly_many_operations_cashiers(
    *, day: dt.date, threshold: int
) -> list[AnomalyHit]:
    """Staff users who recorded more than `threshold` purchases, returns and
    redemptions on `day` (till API rows have no staff user and never count)."""

    if threshold <= 0:
        return []
    start, end = _day_bounds(day)
    recorded = {"created_at__gte": start, "created_at__lt": end}
    purchases = Purchase.objects.filter(created_by=OuterRef("pk"), **recorded)
    returns = PurchaseReturn.objects.filter(created_by=OuterRef("pk"), **recorded)
    redemptions = Redemption.objects.filter(created_by=OuterRef("pk"), **recorded)
    rows = (
        User.objects.filter(Exists(purchases) | Exists(returns) | Exists(redemptions))
        .annotate(
            n_purchases=_count(purchases, "created_by"),
            n_returns=_count(returns, "created_by"),
            n_redemptions=_count(redemptions, "created_by"),
        )
        .annotate(total=F("n_purchases") + F("n_returns") + F("n_redemptions"))
        .filter(total__gt=threshold)
        .order_by("pk")
        .values_list("pk", "n_purchases", "n_returns", "n_redemptions")
    )
    return [
        AnomalyHit(
            rule=AnomalyRule.MANY_TRANSACTIONS,
            subject_kind=AnomalySubject.CASHIER,
            subject_id=pk,
            details={
                "purchases": n_purchases,
                "returns": n_returns,
                "redemptions": n_redemptions,
                "threshold": threshold,
            },
        )
        for pk, n_purchases, n_returns, n_redemptions in rows
    ]


def anomaly_redeem_then_return_members(
    *, day: dt.date, window_days: int
) -> list[AnomalyHit]:
    """Members who returned a purchase on `day` after redeeming points or using
    a voucher in the `window_days` before it.

    The flag's day is the return's: that is when the pattern is complete, so
    scanning each day once finds every case. A redemption counts when it was
    recorded between `window_days` before the day began and the day's last
    return. One aggregate finds the members; one more query reads the ids of
    the flagged members' rows for the details.
    """

    if window_days <= 0:
        return []
    start, end = _day_bounds(day)
    since = start - dt.timedelta(days=window_days)
    returns = PurchaseReturn.objects.filter(
        purchase__member=OuterRef("pk"), created_at__gte=start, created_at__lt=end
    )
    last_return = Subquery(
        returns.order_by()
        .values("purchase__member")
        .annotate(last=Max("created_at"))
        .values("last")[:1]
    )
    redemptions = Redemption.objects.filter(
        member=OuterRef("pk"),
        created_at__gte=since,
        created_at__lt=OuterRef("last_return"),
    )
    vouchers = Voucher.objects.filter(
        member=OuterRef("pk"),
        status=VoucherStatus.USED,
        used_at__gte=since,
        used_at__lt=OuterRef("last_return"),
    )
    rows = list(
        Member.objects.filter(Exists(returns))
        .annotate(last_return=last_return)
        .annotate(
            n_returns=_count(returns, "purchase__member"),
            n_redemptions=_count(redemptions, "member"),
            n_vouchers=_count(vouchers, "member"),
        )
        .filter(Q(n_redemptions__gt=0) | Q(n_vouchers__gt=0))
        .order_by("pk")
        .values_list("pk", "n_returns", "n_redemptions", "n_vouchers", "last_return")
    )
    if not rows:
        return []
    ids = _redeem_then_return_ids(
        last_returns={row[0]: row[4] for row in rows}, start=start, since=since
    )
    return [
        AnomalyHit(
            rule=AnomalyRule.REDEEM_THEN_RETURN,
            subject_kind=AnomalySubject.MEMBER,
            subject_id=pk,
            details={
                "returns": n_returns,
                "redemptions": n_redemptions,
                "vouchers": n_vouchers,
                "window_days": window_days,
                **ids.get(pk, {}),
            },
        )
        for pk, n_returns, n_redemptions, n_vouchers, _last in rows
    ]


def _redeem_then_return_ids(
    *, last_returns: dict[int, dt.datetime], start, since
) -> dict[int, dict[str, list]]:
    """The return, redemption and voucher ids behind the flagged members (each
    with the time of their day's last return): one UNION query over the flagged
    members only, under the same window as the aggregate."""

    before_return = Q()
    used_before_return = Q()
    for member_id, last in last_returns.items():
        before_return |= Q(member_id=member_id, created_at__lt=last)
        used_before_return |= Q(member_id=member_id, used_at__lt=last)
    returns = PurchaseReturn.objects.filter(
        purchase__member_id__in=list(last_returns),
        created_at__gte=start,
        created_at__lte=max(last_returns.values()),
    ).values_list(Value("return_ids"), "purchase__member_id", "pk", "amount")
    redemptions = (
        Redemption.objects.filter(created_at__gte=since)
        .filter(before_return)
        .values_list(Value("redemption_ids"), "member_id", "pk", "discount")
    )
    vouchers = (
        Voucher.objects.filter(status=VoucherStatus.USED, used_at__gte=since)
        .filter(used_before_return)
        .values_list(Value("voucher_ids"), "member_id", "pk", "points_spent")
    )
    out: dict[int, dict[str, list]] = {}
    amounts: dict[int, Counter] = {}
    for kind, member_id, pk, amount in returns.order_by().union(
        redemptions.order_by(), vouchers.order_by(), all=True
    ):
        ids = out.setdefault(member_id, {}).setdefault(kind, [])
        if len(ids) < DETAIL_IDS:
            ids.append(pk)
        if kind == "return_ids":
            amounts.setdefault(member_id, Counter())["returned"] += amount
    for member_id, counter in amounts.items():
        out[member_id]["returned_total"] = str(counter["returned"])
    for kinds in out.values():
        for key in ("return_ids", "redemption_ids", "voucher_ids"):
            if key in kinds:
                kinds[key].sort()
    return out


def anomaly_large_adjustment_members(
    *, day: dt.date, threshold: int
) -> list[AnomalyHit]:
    """Members given or charged a manual adjustment of more than `threshold`
    points (either way) on `day`: one aggregate per member over the entries."""

    if threshold <= 0:
        return []
    start, end = _day_bounds(day)
    entries = LedgerEntry.objects.filter(
        kind=LedgerKind.ADJUST, created_at__gte=start, created_at__lt=end
    ).annotate(size=Abs("points"))
    large = entries.filter(size__gt=threshold)
    rows = (
        large.order_by()
        .values("account__member_id")
        .annotate(
            adjustments=Count("pk"),
            net_points=Sum("points"),
            largest=Max("size"),
        )
        .order_by("account__member_id")
    )
    # The ids of the large entries themselves: one more query, flagged rows only.
    rows = list(rows)
    if not rows:
        return []
    entry_ids: dict[int, list[int]] = {}
    staff_ids: dict[int, set[int]] = {}
    for member_id, pk, created_by_id in large.order_by("pk").values_list(
        "account__member_id", "pk", "created_by_id"
    ):
        entry_ids.setdefault(member_id, []).append(pk)
        if created_by_id is not None:
            staff_ids.setdefault(member_id, set()).add(created_by_id)
    return [
        AnomalyHit(
            rule=AnomalyRule.LARGE_ADJUSTMENT,
            subject_kind=AnomalySubject.MEMBER,
            subject_id=row["account__member_id"],
            details={
                "adjustments": row["adjustments"],
                "net_points": row["net_points"],
                "largest": row["largest"],
                "threshold": threshold,
                "entry_ids": entry_ids.get(row["account__member_id"], [])[:DETAIL_IDS],
                "staff_user_ids": sorted(staff_ids.get(row["account__member_id"], ())),
            },
        )
        for row in rows
    ]


def anomaly_hits_for_day(
    *, day: dt.date, controls: StaffControls | None = None
) -> list[AnomalyHit]:
    """Every rule's hits for `day`, under the current thresholds."""
    controls = controls or staff_controls_get()
    return [
        *anomaly_many_transactions_members(
            day=day, threshold=controls.anomaly_member_daily_transactions
        ),
        *anomaly_many_operations_cashiers(
            day=day, threshold=controls.anomaly_cashier_daily_operations
        ),
        *anomaly_redeem_then_return_members(
            day=day, window_days=controls.anomaly_return_window_days
        ),
        *anomaly_large_adjustment_members(
            day=day, threshold=controls.anomaly_adjustment_points
        ),
    ]


def anomaly_digest_recipients() -> list[str]:
    """Emails of the active Managers who have one."""
    return sorted(
        set(
            User.objects.filter(
                is_active=True, groups__name=MANAGER_GROUP, email__gt=""
            ).values_list("email", flat=True)
        )
    )
