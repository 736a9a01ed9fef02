"""What each analytics figure means (METRICS, shown next to the figure; the
precise rules are in docs/analytics.md) and the one way a ratio of two figures
is rounded."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.utils.translation import gettext_lazy as _

ZERO = Decimal("0")


@dataclass(frozen=True)
class MetricDef:
    """A figure on the dashboards: its label, a one-line definition and how it
    is shown (count, money, percent, days, points)."""

    label: str
    definition: str
    unit: str


# The precise rules are in docs/analytics.md; these lines are shown on the cards.
METRICS: dict[str, MetricDef] = {
    "active_members": MetricDef(
        _("Active members"),
        _("Members who made at least one purchase in the period."),
        "count",
    ),
    "enrollments": MetricDef(
        _("New members"),
        _("Members who enrolled in the period (at this store, for a store)."),
        "count",
    ),
    "participation": MetricDef(
        _("Participation"),
        _("Members' purchases as a share of all sales the stores entered."),
        "percent",
    ),
    "retention": MetricDef(
        _("Retention rate"),
        _(
            "Of the members who bought in the previous period, the share who bought again in this one."
        ),
        "percent",
    ),
    "churn": MetricDef(
        _("Churn rate"),
        _(
            "Of the members who ever bought, the share with no purchase in the last N days before the period's end."
        ),
        "percent",
    ),
    "repeat_rate": MetricDef(
        _("Repeat purchase rate"),
        _(
            "Active members who bought two or more times in the period, as a share of active members."
        ),
        "percent",
    ),
    "frequency": MetricDef(
        _("Purchase frequency"),
        _("Purchases per active member in the period."),
        "ratio",
    ),
    "aov": MetricDef(
        _("Average order value"),
        _("Sales divided by the number of purchases (before returns)."),
        "money",
    ),
    "days_between": MetricDef(
        _("Days between purchases"),
        _(
            "For members with two or more purchases in the period: days from first to last purchase divided by purchases less one, averaged."
        ),
        "days",
    ),
    "sales": MetricDef(
        _("Members' sales"),
        _("Receipt totals of members' purchases in the period, before returns."),
        "money",
    ),
    "clv": MetricDef(
        _("Customer lifetime value (historical)"),
        _(
            "Members' sales less returns since the start, divided by the members who ever bought, at the period's end."
        ),
        "money",
    ),
    "acquisition_cost": MetricDef(
        _("Acquisition cost"),
        _(
            "Acquisition marketing spend entered for the period's months divided by the new members (retention spend is not counted). For one store: its own acquisition spend plus the program-wide acquisition spend allocated by its share of the period's new members."
        ),
        "money",
    ),
    "nps": MetricDef(
        _("Net Promoter Score"),
        _(
            "Of the NPS answers given in the period, the percent of promoters (9–10) less the percent of detractors (0–6)."
        ),
        "score",
    ),
    "satisfaction": MetricDef(
        _("Satisfaction"),
        _("The average score (1–5) of the satisfaction answers given in the period."),
        "rating",
    ),
    "complaints_opened": MetricDef(
        _("Complaints opened"),
        _("Complaints filed by members or logged at a counter in the period."),
        "count",
    ),
    "complaints_resolved": MetricDef(
        _("Complaints resolved"),
        _("Complaints marked resolved in the period (reopened ones not counted)."),
        "count",
    ),
    "complaint_resolve_hours": MetricDef(
        _("Time to resolve"),
        _(
            "The median hours from opening to resolving, of the complaints resolved in the period."
        ),
        "hours",
    ),
    "points_issued": MetricDef(
        _("Points issued"),
        _("Points earned on purchases, bonuses and points added by hand."),
        "points",
    ),
    "points_redeemed": MetricDef(
        _("Points redeemed"),
        _(
            "Points spent at the tills and on vouchers, less points given back for cancelled or expired vouchers."
        ),
        "points",
    ),
    "points_expired": MetricDef(
        _("Points expired"),
        _("Points that reached their expiry date unspent."),
        "points",
    ),
    "redemption_rate": MetricDef(
        _("Redemption rate"),
        _("Points redeemed as a share of points issued in the period."),
        "percent",
    ),
    "breakage": MetricDef(
        _("Breakage"),
        _("Points expired as a share of points issued in the period."),
        "percent",
    ),
    "liability_points": MetricDef(
        _("Outstanding points"),
        _(
            "The sum of all balances at the period's end (every ledger entry up to then)."
        ),
        "points",
    ),
    "liability_money": MetricDef(
        _("Points liability"),
        _("Outstanding points times the money value of one point (program settings)."),
        "money",
    ),
    "vouchers_issued": MetricDef(
        _("Vouchers issued"),
        _("Vouchers issued in the period, whatever their source."),
        "count",
    ),
    "vouchers_used": MetricDef(
        _("Vouchers used"),
        _("Vouchers used at a till in the period."),
        "count",
    ),
    "tier_ups": MetricDef(
        _("Tier upgrades"),
        _("Moves up a tier in the period (first tiers not counted)."),
        "count",
    ),
    "tier_downs": MetricDef(
        _("Tier downgrades"),
        _("Moves down a tier in the period."),
        "count",
    ),
    "referrals": MetricDef(
        _("Referrals"),
        _("Members who enrolled with a friend's code in the period."),
        "count",
    ),
    "referral_conversions": MetricDef(
        _("Referral conversions"),
        _("Referrals whose new member made the qualifying purchase in the period."),
        "count",
    ),
    "debt_clawbacks": MetricDef(
        _("Returns into debt"),
        _(
            "Returns that took back points already spent, leaving the balance below zero."
        ),
        "count",
    ),
    "debt_points": MetricDef(
        _("Points owed after returns"),
        _("Points by which those returns took balances below zero."),
        "points",
    ),
}


def metric_definitions() -> list[tuple[str, str, str]]:
    """(key, label, definition) of every metric, for the definitions table."""
    return [(key, str(m.label), str(m.definition)) for key, m in METRICS.items()]


def ratio(num, den, scale: int = 1) -> Decimal | None:
    """num / den × scale to two decimals; None without a denominator."""
    if num is None or not den:
        return None
    return (Decimal(num) * scale / Decimal(den)).quantize(Decimal("0.01"))
