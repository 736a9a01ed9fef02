"""The KPI cards: every metric of METRICS for a period against the previous
one, for a store or the whole program, from the snapshot tables (never from
purchases or the ledger), so a page costs the same handful of queries however
large the history is."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Q, Sum

from analytics.models import DailyStoreSnapshot, StoreSales
from analytics.selectors.acquisition import acquisition_spend
from analytics.selectors.feedback import FEEDBACK_KEYS, feedback_figures
from analytics.selectors.member_figures import MEMBER_KEYS, period_member_figures
from analytics.selectors.metrics import METRICS, ratio
from analytics.selectors.periods import Period
from rewards.selectors import program_settings_get


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


def member_figures_needed(keys: list[str] | None) -> bool:
    """Whether the cards of `keys` (None: every metric) show member figures."""
    return keys is None or bool(set(keys) & MEMBER_KEYS)


def kpis(
    period: Period,
    store_id: int | None = None,
    keys: list[str] | None = None,
    *,
    member_figures: dict | None = None,
) -> dict[str, Kpi]:
    """Every metric of METRICS for the period against the previous one, for a
    store or the whole program. About six queries. The member figures are
    `member_figures` when given (the pages pass those that
    analytics.services.period_stats keeps, computed once per period and
    refresh), else period_member_figures's, and not read at all when none of
    `keys` needs them; NPS, satisfaction and the complaints (feedback_figures,
    five queries on the live tables) likewise."""
    sums = daily_sums(period, store_id)
    if member_figures_needed(keys):
        figures = (
            period_member_figures(period, store_id)
            if member_figures is None
            else member_figures
        )
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
            "participation": ratio(s["sales"], store_sales[w], 100),
            "retention": ratio(m["kept"], m["base"], 100),
            "churn": ratio(c["churned"], c["buyers"], 100),
            "repeat_rate": ratio(m["repeat"], m["active"], 100),
            "frequency": ratio(m["purchases"], m["active"]),
            "aov": ratio(s["sales"], s["purchases"]),
            "days_between": (
                Decimal(str(m["gap"])).quantize(Decimal("0.1")) if m["repeat"] else None
            ),
            "sales": Decimal(s["sales"]),
            "clv": ratio(lifetime_sales, c["buyers"]),
            "acquisition_cost": ratio(spend[w].total, s["enrollments"]),
            "points_issued": issued,
            "points_redeemed": redeemed,
            "points_expired": s["points_expired"],
            "redemption_rate": ratio(redeemed, issued, 100),
            "breakage": ratio(s["points_expired"], issued, 100),
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
