"""The effective reward rate: what the program gives back on its sales.

    rate = points earned on purchases × point value ÷ sales

Both net of returns (a purchase's points less those its returns took back, its
total less what came back), at today's point value (what a point is worth
when it is spent), over the purchases made in the period. Bonuses (welcome,
birthday, referrals, campaigns, goodwill) belong to no purchase and are left
out; the program page shows them with the points issued.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, F, Sum
from django.db.models.functions import Coalesce, TruncMonth
from django.utils import timezone
from django.utils.translation import gettext

from members.models import Store
from rewards.models import Purchase, Tier
from rewards.selectors.program import program_settings_get

RATE_PLACES = Decimal("0.01")
MONEY_PLACES = Decimal("0.01")
GROUPS = ("month", "store", "tier")


@dataclass(frozen=True)
class RewardRate:
    """One group's purchases: their sales, the points they kept, and what
    those points are worth."""

    key: object  # the month (a date), the store's or tier's id; None: all
    label: str
    purchases: int
    sales: Decimal
    points: int
    point_value: Decimal

    @property
    def value(self) -> Decimal:
        """The money the points are worth."""
        return (self.points * self.point_value).quantize(MONEY_PLACES)

    @property
    def rate(self) -> Decimal | None:
        """Points × point value ÷ sales, in percent; None without sales."""
        if self.sales <= 0:
            return None
        return (self.points * self.point_value * 100 / self.sales).quantize(RATE_PLACES)

    def as_row(self) -> dict:
        """The row a table or a CSV writes."""
        return {
            "group": self.label,
            "purchases": self.purchases,
            "sales": self.sales,
            "points": self.points,
            "points_worth": self.value,
            "reward_rate": self.rate,
        }


def reward_rate_total(rows: list[RewardRate]) -> RewardRate:
    """The rows of one grouping taken together (no query)."""
    return RewardRate(
        None,
        "",
        sum(r.purchases for r in rows),
        sum((r.sales for r in rows), Decimal("0")),
        sum(r.points for r in rows),
        rows[0].point_value if rows else Decimal("0"),
    )


def _month(value) -> dt.date:
    if isinstance(value, dt.datetime):
        if timezone.is_aware(value):
            value = timezone.localtime(value)
        return value.date().replace(day=1)
    if isinstance(value, str):  # SQLite
        return dt.date.fromisoformat(value[:10]).replace(day=1)
    return value.replace(day=1)


def reward_rates(
    *,
    start: dt.datetime,
    end: dt.datetime,
    by: str | None = None,
    store_id: int | None = None,
    point_value: Decimal | None = None,
) -> list[RewardRate]:
    """The effective reward rate of the purchases made in [start, end), of one
    store when `store_id` is given: one row for them all (`by` None), or one
    per local month, store or tier (the member's tier when they bought;
    purchases made before a first tier, or recorded before the tier was kept, have none), in that order
    (months oldest first, stores and tiers by name and rank, the purchases
    without a tier last). One query, and one for the names, and one for the
    program's point value unless `point_value` is given."""
    if by is not None and by not in GROUPS:
        raise ValueError(f"by must be one of {GROUPS} or None, not {by!r}")
    if point_value is None:
        point_value = program_settings_get().point_value
    purchases = Purchase.objects.filter(occurred_at__gte=start, occurred_at__lt=end)
    if store_id:
        purchases = purchases.filter(store_id=store_id)
    totals = {
        "n": Count("pk"),
        "sales": Coalesce(Sum(F("total") - F("returned_total")), Decimal("0")),
        "points": Coalesce(Sum(F("points_earned") - F("points_reversed")), 0),
    }
    if by is None:
        row = purchases.aggregate(**totals)
        return [
            RewardRate(None, "", row["n"], row["sales"], row["points"], point_value)
        ]
    key = {
        "month": TruncMonth("occurred_at"),
        "store": F("store_id"),
        "tier": F("tier_id"),
    }[by]
    sums = purchases.values(key=key).annotate(**totals).order_by()
    found = [(r["key"], r["n"], r["sales"], r["points"]) for r in sums]
    if by == "month":
        merged: dict[dt.date, list] = {}
        for key, n, sales, points in found:  # SQLite may split a month by offset
            month = _month(key)
            acc = merged.setdefault(month, [0, Decimal("0"), 0])
            acc[0] += n
            acc[1] += sales
            acc[2] += points
        return [
            RewardRate(month, f"{month:%Y-%m}", n, sales, points, point_value)
            for month, (n, sales, points) in sorted(merged.items())
        ]
    ids = [key for key, *_rest in found if key is not None]
    if by == "store":
        named = {s.pk: s for s in Store.objects.filter(pk__in=ids)}
        order = {pk: (s.name, pk) for pk, s in named.items()}
    else:
        named = {t.pk: t for t in Tier.objects.filter(pk__in=ids)}
        order = {pk: (t.rank, pk) for pk, t in named.items()}
    rows = [
        RewardRate(
            key,
            named[key].name if key is not None else gettext("No tier"),
            n,
            sales,
            points,
            point_value,
        )
        for key, n, sales, points in found
    ]
    return sorted(rows, key=lambda r: (r.key is None, order.get(r.key, ())))
