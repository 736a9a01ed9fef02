"""Reads for the analytics dashboards: periods, KPI cards, series, cohorts and
tables, all from the snapshot tables (never from purchases or the ledger), so a
page costs the same handful of queries however large the history is."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db import connection
from django.db.models import Count, Q, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from analytics.metrics import (
    METRICS,
    date_diff_sql,
    day_bounds,
    local_month,
    month_add,
    month_end,
    month_start,
)
from analytics.models import (
    DailyStoreSnapshot,
    DailyVoucherSnapshot,
    MarketingSpend,
    MemberMonthActivity,
    MonthlyCohortSnapshot,
    PeriodMemberStats,
    ProgramStateSnapshot,
    SpendKind,
    StoreSales,
)
from members.models import Store
from rewards.models import Tier, VoucherSource
from rewards.selectors.program import program_settings_get

ZERO = Decimal("0")
MAX_MONTHS = 36


@dataclass(frozen=True)
class Period:
    """Whole months first..last (inclusive); the figures stop at today."""

    first: dt.date
    last: dt.date

    @property
    def months(self) -> int:
        return (
            (self.last.year - self.first.year) * 12
            + self.last.month
            - self.first.month
            + 1
        )

    @property
    def start(self) -> dt.date:
        return self.first

    @property
    def end(self) -> dt.date:
        return min(month_end(self.last), timezone.localdate())

    def previous(self) -> Period:
        """The same number of months just before."""
        return Period(month_add(self.first, -self.months), month_add(self.first, -1))

    def label(self) -> str:
        if self.first == self.last:
            return f"{self.first:%Y-%m}"
        return f"{self.first:%Y-%m} – {self.last:%Y-%m}"


def period_default() -> Period:
    """The current month and the two before it."""
    this = local_month()
    return Period(month_add(this, -2), this)


def _month_parse(value: str) -> dt.date:
    return dt.datetime.strptime(value, "%Y-%m").date()  # noqa: DTZ007 - a month


def period_from_params(params) -> tuple[Period, int | None, list[str]]:
    """(period, store id or None, errors) from ?from=YYYY-MM&to=YYYY-MM&store=id.
    Bad values fall back to the default with a message naming the field."""
    errors: list[str] = []
    period = period_default()
    first, last = period.first, period.last
    for name in ("from", "to"):
        raw = (params.get(name) or "").strip()
        if not raw:
            continue
        try:
            month = _month_parse(raw)
        except ValueError:
            errors.append(
                str(_("“%(field)s”: give a month as YYYY-MM.") % {"field": name})
            )
            continue
        if name == "from":
            first = month
        else:
            last = month
    if first > last:
        errors.append(str(_("“from” is after “to”: showing the default period.")))
        first, last = period.first, period.last
    elif (last.year - first.year) * 12 + last.month - first.month >= MAX_MONTHS:
        errors.append(
            str(
                ngettext(
                    "At most %(n)s month at a time: showing the last %(n)s.",
                    "At most %(n)s months at a time: showing the last %(n)s.",
                    MAX_MONTHS,
                )
                % {"n": MAX_MONTHS}
            )
        )
        first = month_add(last, -(MAX_MONTHS - 1))
    store_id = None
    raw_store = (params.get("store") or "").strip()
    if raw_store:
        if raw_store.isdigit() and Store.objects.filter(pk=int(raw_store)).exists():
            store_id = int(raw_store)
        else:
            errors.append(str(_("“store”: no such store; showing all stores.")))
    return Period(first, last), store_id, errors


# --- KPI cards ------------------------------------------------------------------------


@dataclass
class Kpi:
    """One card: a metric for the period, the previous period and the change."""

    key: str
    value: Decimal | int | None
    previous: Decimal | int | None

    @property
    def label(self) -> str:
        return METRICS[self.key].label

    @property
    def definition(self) -> str:
        return METRICS[self.key].definition

    @property
    def unit(self) -> str:
        return METRICS[self.key].unit

    @property
    def change(self) -> Decimal | None:
        """The difference: in percentage points for shares, in score points for
        NPS and the satisfaction average, else in percent."""
        if self.value is None or self.previous is None:
            return None
        if self.unit in DIFFERENCE_UNITS:
            return (Decimal(self.value) - Decimal(self.previous)).quantize(
                Decimal("0.1")
            )
        if not self.previous:
            return None
        return (
            (Decimal(self.value) - Decimal(self.previous))
            * 100
            / abs(Decimal(self.previous))
        ).quantize(Decimal("0.1"))

    @property
    def change_unit(self) -> str:
        if self.unit in DIFFERENCE_UNITS:
            return "pp" if self.unit == "percent" else ""
        return "%"


# Units whose change is shown as a difference rather than in percent.
DIFFERENCE_UNITS = ("percent", "score", "rating")


def _ratio(num, den, scale: int = 1) -> Decimal | None:
    if num is None or not den:
        return None
    return (Decimal(num) * scale / Decimal(den)).quantize(Decimal("0.01"))


ADDITIVE = [
    "purchases",
    "sales",
    "returned",
    "enrollments",
    "points_earned",
    "points_bonus",
    "points_adjusted_in",
    "points_adjusted_out",
    "points_redeemed",
    "points_refunded",
    "points_clawed_back",
    "points_expired",
    "debt_clawbacks",
    "debt_points",
    "redemptions",
    "redemption_discount",
    "vouchers_issued",
    "vouchers_used",
    "tier_ups",
    "tier_downs",
    "referrals_created",
    "referrals_qualified",
]
NET_POINTS = (
    ("points_earned", 1),
    ("points_bonus", 1),
    ("points_adjusted_in", 1),
    ("points_refunded", 1),
    ("points_adjusted_out", -1),
    ("points_redeemed", -1),
    ("points_clawed_back", -1),
    ("points_expired", -1),
)


def daily_sums(period: Period, store_id: int | None) -> dict[str, dict]:
    """The additive figures summed over the period ("cur"), the previous period
    ("prev"), and everything up to each period's end ("to_cur", "to_prev", for
    lifetime value and the points outstanding). One query."""
    prev = period.previous()
    windows = {
        "cur": Q(day__gte=period.start, day__lte=period.end),
        "prev": Q(day__gte=prev.start, day__lte=prev.end),
    }
    aggs = {}
    for name, q in windows.items():
        for f in ADDITIVE:
            aggs[f"{name}__{f}"] = Sum(f, filter=q)
    for name, end in (("to_cur", period.end), ("to_prev", prev.end)):
        for f in ("sales", "returned", *[p for p, _s in NET_POINTS]):
            aggs[f"{name}__{f}"] = Sum(f, filter=Q(day__lte=end))
    row = DailyStoreSnapshot.objects.filter(store_id=store_id).aggregate(**aggs)
    out: dict[str, dict] = {w: {} for w in ("cur", "prev", "to_cur", "to_prev")}
    for key, value in row.items():
        window, f = key.split("__", 1)
        out[window][f] = value or 0
    for window in ("to_cur", "to_prev"):
        out[window]["points_net"] = sum(out[window][p] * s for p, s in NET_POINTS)
    return out


def member_stats(period: Period, store_id: int | None) -> dict[str, dict]:
    """Distinct-member figures of the period and the previous one, from
    MemberMonthActivity in one grouped query: active, repeat buyers, purchases,
    average days between purchases, and who bought again (retention)."""
    prev = period.previous()
    before = prev.previous()
    table = MemberMonthActivity._meta.db_table
    span_c = date_diff_sql(
        "MAX(CASE WHEN month >= %(c0)s THEN last_day END)",
        "MIN(CASE WHEN month >= %(c0)s THEN first_day END)",
    )
    span_p = date_diff_sql(
        "MAX(CASE WHEN month >= %(p0)s AND month < %(c0)s THEN last_day END)",
        "MIN(CASE WHEN month >= %(p0)s AND month < %(c0)s THEN first_day END)",
    )
    store_sql = " AND store_id = %(store)s" if store_id else ""
    sql = f"""
        SELECT
          SUM(CASE WHEN n_c > 0 THEN 1 ELSE 0 END),
          SUM(CASE WHEN n_c > 1 THEN 1 ELSE 0 END),
          SUM(n_c),
          AVG(CASE WHEN n_c > 1 THEN span_c * 1.0 / (n_c - 1) END),
          SUM(CASE WHEN n_p > 0 AND n_c > 0 THEN 1 ELSE 0 END),
          SUM(CASE WHEN n_p > 0 THEN 1 ELSE 0 END),
          SUM(CASE WHEN n_p > 1 THEN 1 ELSE 0 END),
          SUM(n_p),
          AVG(CASE WHEN n_p > 1 THEN span_p * 1.0 / (n_p - 1) END),
          SUM(CASE WHEN n_b > 0 AND n_p > 0 THEN 1 ELSE 0 END),
          SUM(CASE WHEN n_b > 0 THEN 1 ELSE 0 END)
        FROM (
          SELECT member_id,
            SUM(CASE WHEN month >= %(c0)s THEN purchases ELSE 0 END) AS n_c,
            SUM(CASE WHEN month >= %(p0)s AND month < %(c0)s
                THEN purchases ELSE 0 END) AS n_p,
            SUM(CASE WHEN month < %(p0)s THEN purchases ELSE 0 END) AS n_b,
            {span_c} AS span_c,
            {span_p} AS span_p
          FROM {table}
          WHERE month >= %(b0)s AND month <= %(c1)s{store_sql}
          GROUP BY member_id
        ) t
    """  # noqa: S608 - table and column names only; values are parameters
    params = {
        "c0": period.first,
        "c1": period.last,
        "p0": prev.first,
        "b0": before.first,
        "store": store_id,
    }
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = [
            float(v) if isinstance(v, Decimal) else (v or 0) for v in cursor.fetchone()
        ]
    row = [
        int(v) if isinstance(v, float) and i not in (3, 8) else v
        for i, v in enumerate(row)
    ]
    cur = dict(
        zip(["active", "repeat", "purchases", "gap", "kept"], row[0:5], strict=True)
    )
    prv = dict(
        zip(
            ["active", "repeat", "purchases", "gap", "kept", "base"],
            row[5:11],
            strict=True,
        )
    )
    cur["base"] = prv["active"]
    return {"cur": cur, "prev": prv}


def churn_stats(period: Period, store_id: int | None, days: int) -> dict[str, dict]:
    """Members who ever bought up to each period's end and those of them whose
    last purchase was more than `days` days before it. One grouped query."""
    prev = period.previous()
    table = MemberMonthActivity._meta.db_table
    store_sql = " AND store_id = %(store)s" if store_id else ""
    sql = f"""
        SELECT COUNT(*), SUM(CASE WHEN l_c < %(cut_c)s THEN 1 ELSE 0 END),
               COUNT(l_p), SUM(CASE WHEN l_p < %(cut_p)s THEN 1 ELSE 0 END)
        FROM (
          SELECT member_id, MAX(last_day) AS l_c,
                 MAX(CASE WHEN month <= %(p1)s THEN last_day END) AS l_p
          FROM {table}
          WHERE month <= %(c1)s{store_sql}
          GROUP BY member_id
        ) t
    """  # noqa: S608 - table and column names only; values are parameters
    params = {
        "c1": period.last,
        "p1": prev.last,
        "cut_c": period.end - dt.timedelta(days=days),
        "cut_p": prev.end - dt.timedelta(days=days),
        "store": store_id,
    }
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = [v or 0 for v in cursor.fetchone()]
    return {
        "cur": {"buyers": row[0], "churned": row[1]},
        "prev": {"buyers": row[2], "churned": row[3]},
    }


def store_sales_totals(
    period: Period, store_id: int | None
) -> dict[str, Decimal | None]:
    """Total sales the stores entered (StoreSales) in each period; None when none."""
    prev = period.previous()
    qs = StoreSales.objects.all()
    if store_id:
        qs = qs.filter(store_id=store_id)
    row = qs.aggregate(
        cur=Sum("total", filter=Q(day__gte=period.start, day__lte=period.end)),
        prev=Sum("total", filter=Q(day__gte=prev.start, day__lte=prev.end)),
    )
    return row


@dataclass(frozen=True)
class AcquisitionSpend:
    """The acquisition spend a period's acquisition cost divides by its new
    members: for the whole program all of it; for one store its own spend plus
    its share of the program-wide (store-less) spend, the share being the
    store's part of the program's new members in the same period."""

    own: Decimal
    program_wide: Decimal
    allocated: Decimal | None  # the store's share of program_wide; None for all

    @property
    def total(self) -> Decimal:
        return self.own + (self.allocated or ZERO)


def acquisition_spend(
    period: Period, store_id: int | None
) -> dict[str, AcquisitionSpend]:
    """AcquisitionSpend of the period ("cur") and the previous one ("prev").
    Retention spend never counts. One query for the program, two for a store
    (the program's new members, to allocate the program-wide spend)."""
    prev = period.previous()
    windows = {
        "cur": Q(month__gte=period.first, month__lte=period.last),
        "prev": Q(month__gte=prev.first, month__lte=prev.last),
    }
    aggs = {}
    for w, q in windows.items():
        aggs[f"{w}_wide"] = Coalesce(
            Sum("amount", filter=q & Q(store__isnull=True)), ZERO
        )
        aggs[f"{w}_stores"] = Coalesce(
            Sum("amount", filter=q & Q(store__isnull=False)), ZERO
        )
        if store_id:
            aggs[f"{w}_own"] = Coalesce(
                Sum("amount", filter=q & Q(store_id=store_id)), ZERO
            )
    row = MarketingSpend.objects.filter(kind=SpendKind.ACQUISITION).aggregate(**aggs)
    if not store_id:
        return {
            w: AcquisitionSpend(
                own=row[f"{w}_wide"] + row[f"{w}_stores"],
                program_wide=row[f"{w}_wide"],
                allocated=None,
            )
            for w in windows
        }
    bounds = {"cur": (period.start, period.end), "prev": (prev.start, prev.end)}
    new_members = DailyStoreSnapshot.objects.filter(
        Q(store_id=None) | Q(store_id=store_id)
    ).aggregate(
        **{
            f"{w}_{who}": Coalesce(
                Sum("enrollments", filter=Q(day__gte=start, day__lte=end) & where),
                0,
            )
            for w, (start, end) in bounds.items()
            for who, where in (
                ("all", Q(store_id=None)),
                ("mine", Q(store_id=store_id)),
            )
        }
    )
    out = {}
    for w in windows:
        wide = row[f"{w}_wide"]
        allocated = (
            (wide * new_members[f"{w}_mine"] / new_members[f"{w}_all"]).quantize(
                Decimal("0.01")
            )
            if new_members[f"{w}_all"]
            else ZERO
        )
        out[w] = AcquisitionSpend(
            own=row[f"{w}_own"], program_wide=wide, allocated=allocated
        )
    return out


FEEDBACK_KEYS = {
    "nps",
    "satisfaction",
    "complaints_opened",
    "complaints_resolved",
    "complaint_resolve_hours",
}


def _median(values: list[float]) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    mid = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[mid]
    return (ordered[mid - 1] + ordered[mid]) / 2


def feedback_figures(period: Period, store_id: int | None) -> dict[str, dict]:
    """NPS, satisfaction and the complaints figures of the period ("cur") and
    the previous one ("prev"), from the live tables (surveys and complaints are
    small next to purchases): campaigns.selectors_feedback's nps_for_period and
    satisfaction_for_period (one query each per period) and one query for the
    complaints opened or resolved in either period. A store narrows answers to
    its purchases and complaints to those about it. Time to resolve is the
    median, in hours to one decimal."""
    from campaigns.models import Complaint
    from campaigns.selectors_feedback import nps_for_period, satisfaction_for_period

    store = Store(pk=store_id) if store_id else None
    prev = period.previous()
    bounds = {
        "cur": day_bounds(period.start, period.end),
        "prev": day_bounds(prev.start, prev.end),
    }
    out: dict[str, dict] = {}
    for w, (start, end) in bounds.items():
        nps = nps_for_period(start=start, end=end, store=store)
        satisfaction = satisfaction_for_period(start=start, end=end, store=store)
        out[w] = {
            "nps": None if nps.score is None else Decimal(str(nps.score)),
            "satisfaction": (
                None
                if satisfaction.average is None
                else Decimal(str(satisfaction.average))
            ),
            "complaints_opened": 0,
            "complaints_resolved": 0,
            "complaint_resolve_hours": None,
        }
    first, last = bounds["prev"][0], bounds["cur"][1]
    complaints = Complaint.objects.filter(
        Q(created_at__gte=first, created_at__lt=last)
        | Q(resolved_at__gte=first, resolved_at__lt=last)
    )
    if store_id:
        complaints = complaints.filter(store_id=store_id)
    hours: dict[str, list[float]] = {"cur": [], "prev": []}
    for created, resolved in complaints.values_list("created_at", "resolved_at"):
        for w, (start, end) in bounds.items():
            if start <= created < end:
                out[w]["complaints_opened"] += 1
            if resolved is not None and start <= resolved < end:
                out[w]["complaints_resolved"] += 1
                hours[w].append((resolved - created).total_seconds() / 3600)
    for w in bounds:
        median = _median(hours[w])
        if median is not None:
            out[w]["complaint_resolve_hours"] = Decimal(str(median)).quantize(
                Decimal("0.1")
            )
    return out


MEMBER_KEYS = {
    "active_members",
    "retention",
    "churn",
    "repeat_rate",
    "frequency",
    "days_between",
    "clv",
}


def period_member_figures(period: Period, store_id: int | None) -> dict:
    """member_stats and churn_stats of the period, from PeriodMemberStats when
    computed since the last refresh, else computed and kept there. One query
    when kept; the two grouped queries over MemberMonthActivity otherwise."""
    from analytics.snapshots import period_stats_keep

    churn_days = settings.ANALYTICS_CHURN_DAYS
    key = store_id or 0
    kept = (
        PeriodMemberStats.objects.filter(
            first=period.first, last=period.last, store_key=key, churn_days=churn_days
        )
        .values_list("stats", flat=True)
        .first()
    )
    if kept is not None:
        return kept
    figures = {
        "members": member_stats(period, store_id),
        "churn": churn_stats(period, store_id, churn_days),
    }
    period_stats_keep(
        period=period, store_key=key, churn_days=churn_days, stats=figures
    )
    return figures


def active_by_store(period: Period) -> dict[int | None, int]:
    """Distinct buyers of the period per store and overall (None), kept in
    PeriodMemberStats (store_key -1) until the next refresh."""
    from analytics.snapshots import period_stats_keep

    churn_days = settings.ANALYTICS_CHURN_DAYS
    kept = (
        PeriodMemberStats.objects.filter(
            first=period.first, last=period.last, store_key=-1, churn_days=churn_days
        )
        .values_list("stats", flat=True)
        .first()
    )
    if kept is None:
        kept = {}
        table = MemberMonthActivity._meta.db_table
        sql = f"""
            SELECT store_id, COUNT(DISTINCT member_id) FROM {table}
            WHERE month >= %s AND month <= %s GROUP BY store_id
            UNION ALL
            SELECT NULL, COUNT(DISTINCT member_id) FROM {table}
            WHERE month >= %s AND month <= %s
        """  # noqa: S608
        with connection.cursor() as cursor:
            cursor.execute(sql, [period.first, period.last, period.first, period.last])
            for store_id, n in cursor.fetchall():
                kept[str(store_id or "all")] = n
        period_stats_keep(
            period=period, store_key=-1, churn_days=churn_days, stats=kept
        )
    return {(None if k == "all" else int(k)): v for k, v in kept.items()}


def kpis(
    period: Period, store_id: int | None = None, keys: list[str] | None = None
) -> dict[str, Kpi]:
    """Every metric of METRICS for the period against the previous one, for a
    store or the whole program. About six queries; the member figures are
    computed once per period and refresh (period_member_figures), and not at
    all when none of `keys` needs them; NPS, satisfaction and the complaints
    (feedback_figures, five queries on the live tables) likewise."""
    sums = daily_sums(period, store_id)
    if keys is None or set(keys) & MEMBER_KEYS:
        figures = period_member_figures(period, store_id)
        members, churn = figures["members"], figures["churn"]
    else:
        empty = {
            "active": 0,
            "repeat": 0,
            "purchases": 0,
            "gap": 0,
            "kept": 0,
            "base": 0,
        }
        members = {"cur": empty, "prev": empty}
        churn = {w: {"buyers": 0, "churned": 0} for w in ("cur", "prev")}
    if keys is None or set(keys) & FEEDBACK_KEYS:
        feedback = feedback_figures(period, store_id)
    else:
        feedback = {w: dict.fromkeys(FEEDBACK_KEYS) for w in ("cur", "prev")}
    store_sales = store_sales_totals(period, store_id)
    spend = acquisition_spend(period, store_id)
    point_value = program_settings_get().point_value
    values: dict[str, dict[str, object]] = {}
    for w, to in (("cur", "to_cur"), ("prev", "to_prev")):
        s, m, c = sums[w], members[w], churn[w]
        issued = s["points_earned"] + s["points_bonus"] + s["points_adjusted_in"]
        redeemed = s["points_redeemed"] - s["points_refunded"]
        outstanding = sums[to]["points_net"]
        lifetime_sales = sums[to]["sales"] - sums[to]["returned"]
        values[w] = {
            "active_members": m["active"],
            "enrollments": s["enrollments"],
            "participation": _ratio(s["sales"], store_sales[w], 100),
            "retention": _ratio(m["kept"], m["base"], 100),
            "churn": _ratio(c["churned"], c["buyers"], 100),
            "repeat_rate": _ratio(m["repeat"], m["active"], 100),
            "frequency": _ratio(m["purchases"], m["active"]),
            "aov": _ratio(s["sales"], s["purchases"]),
            "days_between": (
                Decimal(str(m["gap"])).quantize(Decimal("0.1")) if m["repeat"] else None
            ),
            "sales": Decimal(s["sales"]),
            "clv": _ratio(lifetime_sales, c["buyers"]),
            "acquisition_cost": _ratio(spend[w].total, s["enrollments"]),
            "points_issued": issued,
            "points_redeemed": redeemed,
            "points_expired": s["points_expired"],
            "redemption_rate": _ratio(redeemed, issued, 100),
            "breakage": _ratio(s["points_expired"], issued, 100),
            "liability_points": outstanding,
            "liability_money": (Decimal(outstanding) * point_value).quantize(
                Decimal("0.01")
            ),
            "vouchers_issued": s["vouchers_issued"],
            "vouchers_used": s["vouchers_used"],
            "tier_ups": s["tier_ups"],
            "tier_downs": s["tier_downs"],
            "referrals": s["referrals_created"],
            "referral_conversions": s["referrals_qualified"],
            "debt_clawbacks": s["debt_clawbacks"],
            "debt_points": s["debt_points"],
            **feedback[w],
        }
    return {key: Kpi(key, values["cur"][key], values["prev"][key]) for key in METRICS}


OVERVIEW_KPIS = [
    "active_members",
    "enrollments",
    "sales",
    "aov",
    "frequency",
    "repeat_rate",
    "days_between",
    "retention",
    "churn",
    "participation",
    "clv",
    "acquisition_cost",
    "nps",
    "satisfaction",
    "complaints_opened",
    "complaints_resolved",
    "complaint_resolve_hours",
]
PROGRAM_KPIS = [
    "points_issued",
    "points_redeemed",
    "points_expired",
    "redemption_rate",
    "breakage",
    "liability_points",
    "liability_money",
    "vouchers_issued",
    "vouchers_used",
    "tier_ups",
    "tier_downs",
    "referrals",
    "referral_conversions",
    "debt_clawbacks",
    "debt_points",
]


# --- series and tables ----------------------------------------------------------------


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


def store_table(period: Period) -> list[dict]:
    """Per store and for all: purchases, sales, AOV, new members, active members,
    participation. Three queries."""
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
                "aov": _ratio(r["sales"], r["purchases"]),
                "enrollments": r["enrollments"],
                "active_members": active.get(store["id"], 0),
                "participation": _ratio(r["sales"], total, 100),
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
                "use_rate": _ratio(r["used"], r["issued"], 100),
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
        out.append({"tier": tier["name"], "members": n, "share": _ratio(n, total, 100)})
    n = counts.get("none", 0)
    out.append(
        {"tier": str(_("No tier")), "members": n, "share": _ratio(n, total, 100)}
    )
    return out


def cohort_matrix(
    *, last: dt.date, months: int = 12, store_id: int | None = None
) -> dict:
    """Retention by enrollment month: for each of the `months` cohorts up to
    `last`, its size and the share of it that bought in each month since
    (offset 0 = the enrollment month). One query."""
    first = month_add(last, -(months - 1))
    cells = MonthlyCohortSnapshot.objects.filter(
        store_id=store_id, cohort__gte=first, cohort__lte=last
    ).values("cohort", "month", "members", "active", "sales")
    by_cohort: dict[dt.date, dict] = {}
    for c in cells:
        row = by_cohort.setdefault(c["cohort"], {"members": c["members"], "cells": {}})
        offset = (
            (c["month"].year - c["cohort"].year) * 12
            + c["month"].month
            - c["cohort"].month
        )
        row["cells"][offset] = c
    rows = []
    for cohort in sorted(by_cohort):
        row = by_cohort[cohort]
        size = row["members"]
        values = []
        for offset in range(months):
            if month_add(cohort, offset) > last:
                break
            c = row["cells"].get(offset)
            active = c["active"] if c else 0
            pct = _ratio(active, size, 100)
            values.append(
                {
                    "offset": offset,
                    "active": active,
                    "pct": pct,
                    "shade": _shade(pct),
                }
            )
        rows.append({"cohort": f"{cohort:%Y-%m}", "members": size, "cells": values})
    return {"rows": rows, "offsets": list(range(months))}


def _shade(pct: Decimal | None) -> int:
    """A CSS class step 0..10 for a heat-map cell (no inline styles: CSP)."""
    if pct is None:
        return 0
    return min(10, int((pct + 9) // 10))


# --- campaigns: revenue against the holdout, and the spend ------------------------------


def campaign_returns(period: Period, now: dt.datetime | None = None) -> list[dict]:
    """Per campaign with runs started in the period: members sent to and held
    out, revenue per member of each group within each run's window (as
    campaigns.selectors_campaigns.run_figures counts it: purchase totals from
    the run's start for the campaign's window_days, net of their returns), the
    incremental revenue (per run: recipients × the difference in revenue per
    member, summed; None without a holdout), the marketing spend entered for
    the period's months under the campaign's name, and the return on spend
    (incremental revenue / spend). Three queries however many runs."""
    from campaigns.models import CampaignRecipient, CampaignRun
    from campaigns.selectors_campaigns import NET_TOTAL

    now = now or timezone.now()
    start, end = day_bounds(period.start, period.end)
    runs = list(
        CampaignRun.objects.filter(started_at__gte=start, started_at__lt=end)
        .order_by("started_at")
        .values(
            "id", "campaign_id", "campaign__name", "campaign__window_days", "started_at"
        )
    )
    if not runs:
        return []
    in_window = Q()
    for run in runs:
        run_end = min(
            run["started_at"] + dt.timedelta(days=run["campaign__window_days"]),
            max(now, run["started_at"]),
        )
        in_window |= Q(
            run_id=run["id"],
            member__purchases__occurred_at__gte=run["started_at"],
            member__purchases__occurred_at__lt=run_end,
        )
    groups: dict[tuple[int, bool], dict] = {}
    for row in (
        CampaignRecipient.objects.filter(run_id__in=[r["id"] for r in runs])
        .values("run_id", "holdout")
        .annotate(
            members=Count("id", distinct=True),
            revenue=Sum(NET_TOTAL, filter=in_window),
        )
        .order_by()
    ):
        groups[(row["run_id"], row["holdout"])] = row
    spend_by_name: dict[str, Decimal] = {}
    for row in (
        MarketingSpend.objects.filter(month__gte=period.first, month__lte=period.last)
        .exclude(campaign="")
        .values("campaign")
        .annotate(total=Sum("amount"))
        .order_by()
    ):
        name = row["campaign"].strip().casefold()
        spend_by_name[name] = spend_by_name.get(name, ZERO) + row["total"]
    by_campaign: dict[int, dict] = {}
    for run in runs:
        c = by_campaign.setdefault(
            run["campaign_id"],
            {
                "campaign": run["campaign__name"],
                "runs": 0,
                "recipients": 0,
                "held_out": 0,
                "revenue": ZERO,
                "holdout_revenue": ZERO,
                "incremental": None,
            },
        )
        sent = groups.get((run["id"], False), {"members": 0, "revenue": None})
        held = groups.get((run["id"], True), {"members": 0, "revenue": None})
        sent_revenue = sent["revenue"] or ZERO
        held_revenue = held["revenue"] or ZERO
        c["runs"] += 1
        c["recipients"] += sent["members"]
        c["held_out"] += held["members"]
        c["revenue"] += sent_revenue
        c["holdout_revenue"] += held_revenue
        if sent["members"] and held["members"]:
            uplift = sent_revenue / sent["members"] - held_revenue / held["members"]
            c["incremental"] = (c["incremental"] or ZERO) + uplift * sent["members"]
    out = []
    for c in by_campaign.values():
        spend = spend_by_name.get(c["campaign"].strip().casefold())
        if spend is not None:
            spend = Decimal(spend).quantize(Decimal("0.01"))
        incremental = c["incremental"]
        out.append(
            {
                "campaign": c["campaign"],
                "runs": c["runs"],
                "recipients": c["recipients"],
                "held_out": c["held_out"],
                "revenue": c["revenue"].quantize(Decimal("0.01")),
                "revenue_per_recipient": _ratio(c["revenue"], c["recipients"]),
                "revenue_per_held_out": _ratio(c["holdout_revenue"], c["held_out"]),
                "incremental": (
                    None
                    if incremental is None
                    else incremental.quantize(Decimal("0.01"))
                ),
                "spend": spend,
                "return_on_spend": (
                    None if incremental is None else _ratio(incremental, spend)
                ),
            }
        )
    return out
