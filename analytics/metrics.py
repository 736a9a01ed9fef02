"""The analytics figures: what each means (METRICS, shown next to the figure) and
the SQL aggregations over the source rows that the snapshots are built from.

Every aggregation groups in the database (GROUP BY day and store, or month,
member and store); Python only reshapes the few grouped rows it gets back.
Days are local days in settings.TIME_ZONE."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.db import connection
from django.db.models import (
    Case,
    Count,
    DateField,
    F,
    IntegerField,
    Max,
    Min,
    Q,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Abs, Coalesce, TruncDate, TruncMonth
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from members.models import Member
from rewards.models import (
    LedgerEntry,
    LedgerKind,
    PointsAccount,
    Purchase,
    PurchaseReturn,
    Redemption,
    Referral,
    ReferralStatus,
    TierHistory,
    Voucher,
)

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


# --- aggregations for the daily snapshot ---------------------------------------


def day_bounds(day_from: dt.date, day_to: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """[start of day_from, start of the day after day_to) in the local time zone."""
    tz = timezone.get_current_timezone()
    start = dt.datetime.combine(day_from, dt.time.min, tzinfo=tz)
    end = dt.datetime.combine(day_to + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
    return start, end


def _grouped(qs, at: str, store: str | None, aggs: dict) -> list[tuple]:
    """Rows of (day, store_id or None, {name: value}): once grouped by day and
    store (when the source has a store) and once by day alone (store None)."""
    day = TruncDate(at)
    out = []
    if store:
        for row in (
            qs.annotate(_day=day, _store=F(store))
            .exclude(_store=None)
            .values("_day", "_store")
            .annotate(**aggs)
            .order_by()
        ):
            out.append((row.pop("_day"), row.pop("_store"), row))
    for row in qs.annotate(_day=day).values("_day").annotate(**aggs).order_by():
        out.append((row.pop("_day"), None, row))
    return out


def _clawback_debt():
    """Points a clawback took the balance below zero by: all of them when the
    balance was already negative, else what passed zero."""
    clawback = Q(kind=LedgerKind.CLAWBACK, balance_after__lt=0)
    return Case(
        When(clawback & Q(balance_after__gte=F("points")), then=-F("balance_after")),
        When(clawback, then=-F("points")),
        default=Value(0),
        output_field=IntegerField(),
    )


def daily_aggregates(
    day_from: dt.date, day_to: dt.date
) -> dict[tuple[dt.date, int | None], dict]:
    """Every additive figure of DailyStoreSnapshot for the days, keyed by (day,
    store id or None for the whole program). About a dozen grouped queries."""
    start, end = day_bounds(day_from, day_to)
    rows: dict[tuple, dict] = defaultdict(dict)

    def add(found):
        for day, store, values in found:
            target = rows[(day, store)]
            for key, value in values.items():
                target[key] = value if value is not None else 0

    add(
        _grouped(
            Purchase.objects.filter(occurred_at__gte=start, occurred_at__lt=end),
            "occurred_at",
            "store_id",
            {
                "purchases": Count("id"),
                "sales": Sum("total"),
                "buyers": Count("member_id", distinct=True),
            },
        )
    )
    add(
        _grouped(
            PurchaseReturn.objects.filter(created_at__gte=start, created_at__lt=end),
            "created_at",
            "store_id",
            {"returns": Count("id"), "returned": Sum("amount")},
        )
    )
    add(
        _grouped(
            Member.objects.filter(enrolled_at__gte=start, enrolled_at__lt=end),
            "enrolled_at",
            "enrolled_store_id",
            {"enrollments": Count("id")},
        )
    )
    kind = LedgerKind
    ledger = {
        "points_earned": Sum("points", filter=Q(kind=kind.EARN)),
        "points_bonus": Sum("points", filter=Q(kind=kind.BONUS)),
        "points_adjusted_in": Sum("points", filter=Q(kind=kind.ADJUST, points__gt=0)),
        "points_adjusted_out": Sum(
            Abs("points"), filter=Q(kind=kind.ADJUST, points__lt=0)
        ),
        "points_redeemed": Sum(Abs("points"), filter=Q(kind=kind.REDEEM)),
        "points_refunded": Sum("points", filter=Q(kind=kind.REFUND)),
        "points_clawed_back": Sum(Abs("points"), filter=Q(kind=kind.CLAWBACK)),
        "points_expired": Sum(Abs("points"), filter=Q(kind=kind.EXPIRE)),
        "debt_clawbacks": Count(
            "id", filter=Q(kind=kind.CLAWBACK, balance_after__lt=0)
        ),
        "debt_points": Sum(_clawback_debt()),
    }
    entries = LedgerEntry.objects.filter(created_at__gte=start, created_at__lt=end)
    # Entries carry no store: a receipt's, a return's or a till redemption's.
    add(
        _grouped(
            entries.annotate(
                _entry_store=Coalesce(
                    "purchase__store_id",
                    "purchase_return__store_id",
                    "redemption__store_id",
                )
            ),
            "created_at",
            "_entry_store",
            ledger,
        )
    )
    add(
        _grouped(
            Redemption.objects.filter(created_at__gte=start, created_at__lt=end),
            "created_at",
            "store_id",
            {"redemptions": Count("id"), "redemption_discount": Sum("discount")},
        )
    )
    add(
        _grouped(
            Voucher.objects.filter(issued_at__gte=start, issued_at__lt=end),
            "issued_at",
            None,
            {"vouchers_issued": Count("id")},
        )
    )
    add(
        _grouped(
            Voucher.objects.filter(used_at__gte=start, used_at__lt=end),
            "used_at",
            "used_store_id",
            {"vouchers_used": Count("id")},
        )
    )
    add(
        _grouped(
            TierHistory.objects.filter(created_at__gte=start, created_at__lt=end),
            "created_at",
            None,
            {
                "tier_ups": Count("id", filter=Q(kind=TierHistory.Kind.UP)),
                "tier_downs": Count("id", filter=Q(kind=TierHistory.Kind.DOWN)),
            },
        )
    )
    add(
        _grouped(
            Referral.objects.filter(
                created_at__gte=start, created_at__lt=end, referee__isnull=False
            ),
            "created_at",
            None,
            {"referrals_created": Count("id")},
        )
    )
    add(
        _grouped(
            Referral.objects.filter(
                qualified_at__gte=start,
                qualified_at__lt=end,
                status=ReferralStatus.QUALIFIED,
            ),
            "qualified_at",
            None,
            {"referrals_qualified": Count("id")},
        )
    )
    return rows


def voucher_aggregates(
    day_from: dt.date, day_to: dt.date
) -> dict[tuple[dt.date, str], dict]:
    """Vouchers issued and used per day and source (coupon and promo-code use
    is the CAMPAIGN source)."""
    start, end = day_bounds(day_from, day_to)
    rows: dict[tuple, dict] = defaultdict(lambda: {"issued": 0, "used": 0})
    for at, name in (("issued_at", "issued"), ("used_at", "used")):
        found = (
            Voucher.objects.filter(**{f"{at}__gte": start, f"{at}__lt": end})
            .annotate(_day=TruncDate(at))
            .values("_day", "source")
            .annotate(n=Count("id"))
            .order_by()
        )
        for row in found:
            rows[(row["_day"], row["source"])][name] = row["n"]
    return rows


# --- the member-month base of distinct counts ----------------------------------


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def month_add(month: dt.date, n: int) -> dt.date:
    index = month.year * 12 + month.month - 1 + n
    return dt.date(index // 12, index % 12 + 1, 1)


def month_end(month: dt.date) -> dt.date:
    return month_add(month, 1) - dt.timedelta(days=1)


def member_month_select(months: list[dt.date]):
    """Purchases of the months grouped by (month, member, store), as a queryset
    whose SELECT lists the columns in MemberMonthActivity's insert order."""
    q = Q()
    for month in months:
        start, end = day_bounds(month, month_end(month))
        q |= Q(occurred_at__gte=start, occurred_at__lt=end)
    return (
        Purchase.objects.filter(q)
        .annotate(_month=TruncMonth("occurred_at", output_field=DateField()))
        .values("_month", "member_id", "store_id")
        .annotate(
            _purchases=Count("id"),
            _sales=Sum("total"),
            _first=Min(TruncDate("occurred_at")),
            _last=Max(TruncDate("occurred_at")),
        )
        .order_by()
    )


def cohort_sizes() -> dict[tuple[dt.date, int | None], int]:
    """Members per enrollment month, per enrollment store and overall (None)."""
    sizes: dict[tuple, int] = defaultdict(int)
    rows = (
        Member.objects.annotate(
            _cohort=TruncMonth("enrolled_at", output_field=DateField())
        )
        .values("_cohort", "enrolled_store_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    for row in rows:
        cohort = _as_date(row["_cohort"])
        sizes[(cohort, None)] += row["n"]
        if row["enrolled_store_id"] is not None:
            sizes[(cohort, row["enrolled_store_id"])] += row["n"]
    return sizes


def cohort_activity(months: set[dt.date]) -> dict[tuple, dict]:
    """Per (cohort, month, enrollment store or None): distinct members who bought,
    purchases and sales, from MemberMonthActivity, for cells whose month or
    cohort is in `months`."""
    from analytics.models import MemberMonthActivity

    q = Q(month__in=months)
    for month in months:
        start, end = day_bounds(month, month_end(month))
        q |= Q(member__enrolled_at__gte=start, member__enrolled_at__lt=end)
    base = MemberMonthActivity.objects.filter(q).annotate(
        _cohort=TruncMonth("member__enrolled_at", output_field=DateField())
    )
    aggs = {
        "active": Count("member_id", distinct=True),
        "purchases": Sum("purchases"),
        "sales": Sum("sales"),
    }
    out: dict[tuple, dict] = {}
    for row in (
        base.exclude(member__enrolled_store=None)
        .values("_cohort", "month", "member__enrolled_store")
        .annotate(**aggs)
        .order_by()
    ):
        key = (_as_date(row["_cohort"]), row["month"], row["member__enrolled_store"])
        out[key] = row
    for row in base.values("_cohort", "month").annotate(**aggs).order_by():
        out[(_as_date(row["_cohort"]), row["month"], None)] = row
    return out


def _as_date(value) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, str):
        return dt.date.fromisoformat(value[:10])
    return value


# --- the program's state now ----------------------------------------------------


def program_state() -> dict:
    """Balances, debts, members per tier and members who redeemed more than
    their purchases earned, as they stand now (four queries)."""
    accounts = PointsAccount.objects.aggregate(
        members=Count("id"),
        points_positive=Coalesce(Sum("balance", filter=Q(balance__gt=0)), 0),
        accounts_negative=Count("id", filter=Q(balance__lt=0)),
        points_negative=Coalesce(Sum(Abs("balance"), filter=Q(balance__lt=0)), 0),
    )
    tiers = {
        str(row["tier_id"] or "none"): row["n"]
        for row in PointsAccount.objects.values("tier_id")
        .annotate(n=Count("id"))
        .order_by()
    }
    kind = LedgerKind
    beyond = (
        LedgerEntry.objects.values("account_id")
        .annotate(
            spent=Coalesce(
                Sum("points", filter=Q(kind__in=[kind.REDEEM, kind.REFUND])), 0
            ),
            earned=Coalesce(
                Sum("points", filter=Q(kind__in=[kind.EARN, kind.CLAWBACK])), 0
            ),
        )
        .filter(spent__lt=-F("earned"))
        .order_by()
    )
    return {
        **accounts,
        "tier_counts": tiers,
        "members_beyond_earned": beyond.count(),
    }


def date_diff_sql(later: str, earlier: str) -> str:
    """Days between two DATE expressions, on PostgreSQL and SQLite."""
    if connection.vendor == "postgresql":
        return f"({later} - {earlier})"
    return f"(julianday({later}) - julianday({earlier}))"


def local_month() -> dt.date:
    """The first day of the current local month."""
    return month_start(timezone.localdate())
