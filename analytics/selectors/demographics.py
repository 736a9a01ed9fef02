"""The KPIs and the cohort retention by age band and by gender.

The bands are members.ages' (the one definition the segments use too), a
member's age counted on the period's last day. Unlike the other dashboards
these are read live from members and purchases (the snapshot tables have no
age or gender), in a fixed number of grouped queries whatever the history:

* `demographic_kpis(period, store_id, by)`: per group, the members enrolled by
  the period's end, the new ones in it, the active ones (bought in it), their
  purchases and net sales, the active share and the sales per active member;
* `demographic_cohorts(last, by, months)`: per group, of the members who
  enrolled in the `months` months up to `last`, the share who bought in each
  month since they enrolled (offset 0 = the enrollment month), over the members
  whose cohort reached that month.

A store narrows members to their home store and purchases to that store.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal

from django.db.models import Count, DecimalField, F, Q, Sum
from django.db.models.functions import Coalesce, TruncMonth

from analytics.selectors.cohorts import heat_shade
from analytics.selectors.metrics import ratio
from analytics.selectors.periods import Period, as_date, day_bounds, month_add
from members.ages import AGE_BANDS, age_band_label, band_case
from members.models import Gender, Member
from rewards.models import Purchase

GROUPINGS = ("age_band", "gender")
MONEY = DecimalField(max_digits=14, decimal_places=2)


def group_keys(by: str) -> list[tuple[str, str]]:
    """The groups of a grouping, in display order, as (key, label)."""
    if by == "age_band":
        return [(band.code, str(band.label)) for band in AGE_BANDS]
    if by == "gender":
        return [(value, str(label)) for value, label in Gender.choices]
    raise ValueError(f"unknown grouping {by!r}")


def group_label(by: str, key: str) -> str:
    if by == "age_band":
        return age_band_label(key)
    return str(dict(Gender.choices).get(key, key))


def _group_expr(by: str, on: dt.date, prefix: str = ""):
    if by == "age_band":
        return band_case(on, prefix)
    if by == "gender":
        return F(f"{prefix}gender")
    raise ValueError(f"unknown grouping {by!r}")


def demographic_kpis(period: Period, store_id: int | None, by: str) -> list[dict]:
    """One row per group (every group, empty ones too): four queries."""
    start, end = day_bounds(period.start, period.end)
    on = period.end
    members = Member.objects.filter(enrolled_at__lt=end)
    purchases = Purchase.objects.filter(
        occurred_at__gte=start, occurred_at__lt=end, member__isnull=False
    )
    if store_id:
        members = members.filter(home_store_id=store_id)
        purchases = purchases.filter(store_id=store_id)
    member_rows = (
        members.annotate(grp=_group_expr(by, on))
        .values("grp")
        .annotate(
            members=Count("id"),
            new=Count("id", filter=Q(enrolled_at__gte=start)),
        )
        .order_by()
    )
    bought = (
        purchases.annotate(grp=_group_expr(by, on, "member__"))
        .values("grp")
        .annotate(
            active=Count("member_id", distinct=True),
            purchases=Count("id", filter=Q(returned_total__lt=F("total"))),
            sales=Coalesce(
                Sum(F("total") - F("returned_total"), output_field=MONEY),
                Decimal("0"),
                output_field=MONEY,
            ),
        )
        .order_by()
    )
    by_group: dict[str, dict] = defaultdict(dict)
    for row in member_rows:
        by_group[row["grp"]].update(members=row["members"], new=row["new"])
    for row in bought:
        by_group[row["grp"]].update(
            active=row["active"], purchases=row["purchases"], sales=row["sales"]
        )
    out = []
    for key, label in group_keys(by):
        row = by_group.get(key, {})
        members_n = row.get("members", 0)
        active = row.get("active", 0)
        sales = row.get("sales") or Decimal("0")
        out.append(
            {
                "key": key,
                "label": label,
                "members": members_n,
                "new": row.get("new", 0),
                "active": active,
                "active_share": ratio(active, members_n, 100),
                "purchases": row.get("purchases", 0),
                "sales": sales.quantize(Decimal("0.01")),
                "sales_per_active": ratio(sales, active),
            }
        )
    return out


def demographic_cohorts(
    *, last: dt.date, by: str, months: int = 12, store_id: int | None = None
) -> dict:
    """Retention by group: {"offsets": [0..months-1], "rows": [{"key", "label",
    "members", "cells": [{"offset", "active", "base", "pct"}]}]}. Two queries."""
    first = month_add(last, -(months - 1))
    on = month_add(last, 1) - dt.timedelta(days=1)  # the last month's last day
    start, end = day_bounds(first, on)
    members = Member.objects.filter(enrolled_at__gte=start, enrolled_at__lt=end)
    purchases = Purchase.objects.filter(
        member__enrolled_at__gte=start,
        member__enrolled_at__lt=end,
        occurred_at__gte=start,
        occurred_at__lt=end,
        returned_total__lt=F("total"),
    )
    if store_id:
        members = members.filter(home_store_id=store_id)
        purchases = purchases.filter(member__home_store_id=store_id)
    sizes: dict[str, dict[dt.date, int]] = defaultdict(dict)
    for row in (
        members.annotate(grp=_group_expr(by, on), cohort=TruncMonth("enrolled_at"))
        .values("grp", "cohort")
        .annotate(n=Count("id"))
        .order_by()
    ):
        sizes[row["grp"]][as_date(row["cohort"])] = row["n"]
    active: dict[str, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    for row in (
        purchases.annotate(
            grp=_group_expr(by, on, "member__"),
            cohort=TruncMonth("member__enrolled_at"),
            month=TruncMonth("occurred_at"),
        )
        .values("grp", "cohort", "month")
        .annotate(n=Count("member_id", distinct=True))
        .order_by()
    ):
        cohort, month = as_date(row["cohort"]), as_date(row["month"])
        offset = (month.year - cohort.year) * 12 + month.month - cohort.month
        if 0 <= offset < months:
            active[row["grp"]][offset] += row["n"]
    rows = []
    for key, label in group_keys(by):
        cohorts = sizes.get(key, {})
        cells = []
        for offset in range(months):
            base = sum(
                n for cohort, n in cohorts.items() if month_add(cohort, offset) <= last
            )
            got = active.get(key, {}).get(offset, 0)
            cells.append(
                {
                    "offset": offset,
                    "active": got,
                    "base": base,
                    "pct": ratio(got, base, 100),
                    "shade": heat_shade(ratio(got, base, 100)),
                }
            )
        rows.append(
            {
                "key": key,
                "label": label,
                "members": sum(cohorts.values()),
                "cells": cells,
            }
        )
    return {"offsets": list(range(months)), "rows": rows}
