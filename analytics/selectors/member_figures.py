"""The distinct-member figures of a period (active members, repeat buyers,
retention, churn, active members per store), from MemberMonthActivity in a
few grouped queries. Computing them reads every member month of the period,
so the figures of a period are kept in PeriodMemberStats until the next
refresh: these selectors read what is kept, else compute, and never store;
analytics.services.period_stats keeps them."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.conf import settings
from django.db import connection

from analytics.models import MemberMonthActivity, PeriodMemberStats
from analytics.selectors.periods import Period

# PeriodMemberStats.store_key of the per-store active members (the member
# figures of all stores are kept under 0, those of a store under its id).
ACTIVE_BY_STORE_KEY = -1

MEMBER_KEYS = {
    "active_members",
    "retention",
    "churn",
    "repeat_rate",
    "frequency",
    "days_between",
    "clv",
}


def date_diff_sql(later: str, earlier: str) -> str:
    """Days between two DATE expressions, on PostgreSQL and SQLite."""
    if connection.vendor == "postgresql":
        return f"({later} - {earlier})"
    return f"(julianday({later}) - julianday({earlier}))"


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


def period_stats_kept(period: Period, store_key: int) -> dict | None:
    """The figures kept in PeriodMemberStats for the period, the store key and
    the churn days now set, or None. One query."""
    return (
        PeriodMemberStats.objects.filter(
            first=period.first,
            last=period.last,
            store_key=store_key,
            churn_days=settings.ANALYTICS_CHURN_DAYS,
        )
        .values_list("stats", flat=True)
        .first()
    )


def period_member_figures_compute(period: Period, store_id: int | None) -> dict:
    """member_stats and churn_stats of the period: two grouped queries over
    MemberMonthActivity."""
    return {
        "members": member_stats(period, store_id),
        "churn": churn_stats(period, store_id, settings.ANALYTICS_CHURN_DAYS),
    }


def period_member_figures(period: Period, store_id: int | None) -> dict:
    """member_stats and churn_stats of the period, from PeriodMemberStats when
    kept since the last refresh (one query), else computed (the two grouped
    queries over MemberMonthActivity) without keeping them."""
    kept = period_stats_kept(period, store_id or 0)
    if kept is not None:
        return kept
    return period_member_figures_compute(period, store_id)


def active_by_store_compute(period: Period) -> dict[str, int]:
    """Distinct buyers of the period per store ("<id>") and overall ("all"),
    as PeriodMemberStats keeps them. One query."""
    counts = {}
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
            counts[str(store_id or "all")] = n
    return counts


def active_by_store_from(counts: dict[str, int]) -> dict[int | None, int]:
    """active_by_store_compute's counts keyed by store id, None for all."""
    return {(None if k == "all" else int(k)): v for k, v in counts.items()}


def active_by_store(period: Period) -> dict[int | None, int]:
    """Distinct buyers of the period per store and overall (None), from
    PeriodMemberStats (store_key -1) when kept, else counted without keeping."""
    kept = period_stats_kept(period, ACTIVE_BY_STORE_KEY)
    if kept is None:
        kept = active_by_store_compute(period)
    return active_by_store_from(kept)
