"""The dashboards' series and tables: days, stores, months of points,
vouchers by source, members per tier. From the snapshot tables."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db.models import Sum
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _

from analytics.models import (
    DailyStoreSnapshot,
    DailyVoucherSnapshot,
    ProgramStateSnapshot,
    StoreSales,
)
from analytics.selectors.kpis import NET_POINTS
from analytics.selectors.member_figures import active_by_store
from analytics.selectors.metrics import ZERO, ratio
from analytics.selectors.periods import Period, month_add, month_start
from members.models import Store
from rewards.models import Tier, VoucherSource
from rewards.selectors import program_settings_get


def daily_series(period: Period, store_id: int | None) -> list[dict]:
    """One row per day of the period: purchases, sales, new members, points."""
    rows = (
        DailyStoreSnapshot.objects.filter(
            store_id=store_id, day__gte=period.start, day__lte=period.end
        )
        .order_by("day")
        .values(
            "day",
            "purchases",
            "sales",
            "buyers",
            "enrollments",
            "points_earned",
            "points_bonus",
            "points_adjusted_in",
            "points_redeemed",
            "points_refunded",
            "points_expired",
        )
    )
    out = []
    for r in rows:
        out.append(
            {
                "day": r["day"].isoformat(),
                "purchases": r["purchases"],
                "sales": str(r["sales"]),
                "buyers": r["buyers"],
                "enrollments": r["enrollments"],
                "points_issued": r["points_earned"]
                + r["points_bonus"]
                + r["points_adjusted_in"],
                "points_redeemed": r["points_redeemed"] - r["points_refunded"],
                "points_expired": r["points_expired"],
            }
        )
    return out


def store_table(
    period: Period, *, active: dict[int | None, int] | None = None
) -> list[dict]:
    """Per store and for all: purchases, sales, AOV, new members, active members,
    participation. Three queries, and the active members per store: `active`
    when given (the pages pass those analytics.services.period_stats keeps),
    else active_by_store's."""
    rows = {
        r["store_id"]: r
        for r in DailyStoreSnapshot.objects.filter(
            day__gte=period.start, day__lte=period.end
        )
        .values("store_id")
        .annotate(
            purchases=Coalesce(Sum("purchases"), 0),
            sales=Coalesce(Sum("sales"), ZERO),
            enrollments=Coalesce(Sum("enrollments"), 0),
        )
        .order_by()
    }
    if active is None:
        active = active_by_store(period)
    entered = {
        r["store_id"]: r["total"]
        for r in StoreSales.objects.filter(day__gte=period.start, day__lte=period.end)
        .values("store_id")
        .annotate(total=Sum("total"))
        .order_by()
    }
    stores = list(Store.objects.order_by("name").values("id", "name"))
    out = []
    for store in [*stores, {"id": None, "name": str(_("All stores"))}]:
        r = rows.get(store["id"], {"purchases": 0, "sales": ZERO, "enrollments": 0})
        total = (
            sum(entered.values(), ZERO)
            if store["id"] is None
            else entered.get(store["id"])
        )
        out.append(
            {
                "store": store["name"],
                "purchases": r["purchases"],
                "sales": Decimal(r["sales"]).quantize(Decimal("0.01")),
                "aov": ratio(r["sales"], r["purchases"]),
                "enrollments": r["enrollments"],
                "active_members": active.get(store["id"], 0),
                "participation": ratio(r["sales"], total, 100),
            }
        )
    return out


def monthly_points(period: Period) -> list[dict]:
    """Per month of the period: points issued, redeemed, expired and the
    points outstanding at the month's end. Two queries (sums by month, and the
    total before the period)."""
    by_month: dict[dt.date, dict] = {}
    rows = DailyStoreSnapshot.objects.filter(
        store_id=None, day__gte=period.start, day__lte=period.end
    ).values("day", *[p for p, _s in NET_POINTS], "vouchers_issued", "vouchers_used")
    for r in rows:
        m = by_month.setdefault(
            month_start(r["day"]),
            {"issued": 0, "redeemed": 0, "expired": 0, "net": 0, "vi": 0, "vu": 0},
        )
        m["issued"] += r["points_earned"] + r["points_bonus"] + r["points_adjusted_in"]
        m["redeemed"] += r["points_redeemed"] - r["points_refunded"]
        m["expired"] += r["points_expired"]
        m["net"] += sum(r[p] * s for p, s in NET_POINTS)
        m["vi"] += r["vouchers_issued"]
        m["vu"] += r["vouchers_used"]
    before = DailyStoreSnapshot.objects.filter(
        store_id=None, day__lt=period.start
    ).aggregate(**{p: Coalesce(Sum(p), 0) for p, _s in NET_POINTS})
    outstanding = sum(before[p] * s for p, s in NET_POINTS)
    point_value = program_settings_get().point_value
    out = []
    month = period.first
    while month <= period.last:
        m = by_month.get(
            month,
            {"issued": 0, "redeemed": 0, "expired": 0, "net": 0, "vi": 0, "vu": 0},
        )
        outstanding += m["net"]
        out.append(
            {
                "month": f"{month:%Y-%m}",
                "points_issued": m["issued"],
                "points_redeemed": m["redeemed"],
                "points_expired": m["expired"],
                "points_outstanding": outstanding,
                "liability": (Decimal(outstanding) * point_value).quantize(
                    Decimal("0.01")
                ),
                "vouchers_issued": m["vi"],
                "vouchers_used": m["vu"],
            }
        )
        month = month_add(month, 1)
    return out


def voucher_sources(period: Period) -> list[dict]:
    """Vouchers issued and used in the period by source (one query)."""
    found = {
        r["source"]: r
        for r in DailyVoucherSnapshot.objects.filter(
            day__gte=period.start, day__lte=period.end
        )
        .values("source")
        .annotate(issued=Sum("issued"), used=Sum("used"))
        .order_by()
    }
    out = []
    for value, label in VoucherSource.choices:
        r = found.get(value, {"issued": 0, "used": 0})
        out.append(
            {
                "source": str(label),
                "issued": r["issued"],
                "used": r["used"],
                "use_rate": ratio(r["used"], r["issued"], 100),
            }
        )
    return out


def program_state_latest() -> ProgramStateSnapshot | None:
    return ProgramStateSnapshot.objects.order_by("-day").first()


def tier_table(state: ProgramStateSnapshot | None) -> list[dict]:
    """Members per tier from the latest program state (one query for the names)."""
    counts = state.tier_counts if state else {}
    total = sum(counts.values()) or 0
    out = []
    for tier in Tier.objects.order_by("rank").values("id", "name"):
        n = counts.get(str(tier["id"]), 0)
        out.append({"tier": tier["name"], "members": n, "share": ratio(n, total, 100)})
    n = counts.get("none", 0)
    out.append({"tier": str(_("No tier")), "members": n, "share": ratio(n, total, 100)})
    return out
