"""The SQL aggregations over the source rows (purchases, returns, the ledger,
members, vouchers, tiers, referrals) that the snapshot tables are built from
(analytics.services.snapshots writes them).

Every aggregation groups in the database (GROUP BY day and store, or month,
member and store); Python only reshapes the few grouped rows it gets back.
Days are local days in settings.TIME_ZONE."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

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

from analytics.models import MemberMonthActivity
from analytics.selectors.periods import as_date, day_bounds, month_end
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

# --- the daily snapshot ----------------------------------------------------------


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
        cohort = as_date(row["_cohort"])
        sizes[(cohort, None)] += row["n"]
        if row["enrolled_store_id"] is not None:
            sizes[(cohort, row["enrolled_store_id"])] += row["n"]
    return sizes


def cohort_activity(months: set[dt.date]) -> dict[tuple, dict]:
    """Per (cohort, month, enrollment store or None): distinct members who bought,
    purchases and sales, from MemberMonthActivity, for cells whose month or
    cohort is in `months`."""
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
        key = (as_date(row["_cohort"]), row["month"], row["member__enrolled_store"])
        out[key] = row
    for row in base.values("_cohort", "month").annotate(**aggs).order_by():
        out[(as_date(row["_cohort"]), row["month"], None)] = row
    return out


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
