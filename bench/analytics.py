"""Benchmark 6, analytics on a large data set (PostgreSQL).

1. Seed (when the database is empty): `seed_demo --members M --purchases P`
   (demo.bulk: COPY), timed.
2. Full snapshot recomputation over the whole history (analytics_recompute).
3. The nightly incremental refresh after a day's activity: N new purchases
   through purchase_record, a few returns, then snapshots_refresh_incremental
   (the last ANALYTICS_RECENT_DAYS days + changed days).
4. Each dashboard page and a CSV export with Django's test client as a
   Manager: median of 5 requests, and the number of queries.

    python bench/analytics.py            # 100k members, 1M purchases
    BENCH_ANALYTICS_MEMBERS=10000 BENCH_ANALYTICS_PURCHASES=100000 python bench/analytics.py

`make bench` (bench/run.py analytics) runs it in a process of its own.
BENCH_ANALYTICS_DATABASE_URL (default: BENCH_DATABASE_URL's name with
"_analytics" when that is set, else
postgres://postgres@127.0.0.1:5432/loyalty_analytics_bench) is created when
missing and kept, so a second run skips the seed (BENCH_ANALYTICS_KEEP=0 drops
it at the end; bench/run.py --tiny does, on a database of its own, "_tiny").
Its receipt ids are registry.numbers("analytics")'s; the returns are of half a
purchase, in whole kopecks. `--json PATH` writes the figures there too.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from harness import drop_database, ensure_database  # bench/
from registry import numbers  # bench/, beside this file

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _database_url() -> str:
    """BENCH_ANALYTICS_DATABASE_URL; else BENCH_DATABASE_URL's name with
    "_analytics", so that one variable keeps two runs apart; else the
    documented loyalty_analytics_bench (a kept, seeded one is found again).
    --tiny has a database of its own, which it drops."""
    tiny = "_tiny" if os.environ.get("BENCH_TINY") == "1" else ""
    if os.environ.get("BENCH_ANALYTICS_DATABASE_URL"):
        return os.environ["BENCH_ANALYTICS_DATABASE_URL"] + tiny
    if os.environ.get("BENCH_DATABASE_URL"):
        return os.environ["BENCH_DATABASE_URL"] + "_analytics" + tiny
    return "postgres://postgres@127.0.0.1:5432/loyalty_analytics_bench" + tiny


URL = _database_url()
os.environ["DATABASE_URL"] = URL
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "loyalty_site.settings")
os.environ.setdefault("LANGUAGE_CODE", "en")
os.environ.setdefault("ALLOWED_HOSTS", "testserver,127.0.0.1,localhost")
# The pages render {% static %} without a collectstatic manifest.
os.environ.setdefault(
    "STATICFILES_BACKEND", "django.contrib.staticfiles.storage.StaticFilesStorage"
)
MEMBERS = int(os.environ.get("BENCH_ANALYTICS_MEMBERS", "100000"))
PURCHASES = int(os.environ.get("BENCH_ANALYTICS_PURCHASES", "1000000"))
NIGHTLY_PURCHASES = int(os.environ.get("BENCH_ANALYTICS_NIGHTLY", "500"))
MONTHS = int(os.environ.get("BENCH_ANALYTICS_MONTHS", "12"))  # of history
NIGHTLY_RETURNS = int(os.environ.get("BENCH_ANALYTICS_RETURNS", "20"))
REPEAT = int(os.environ.get("BENCH_ANALYTICS_REPEAT", "5"))  # requests per page


def half(amount: Decimal) -> Decimal:
    """Half a purchase, in whole kopecks: returns take at most two decimals."""
    return (amount / 2).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def main() -> None:
    parser = argparse.ArgumentParser(description="Benchmark 6: analytics.")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    ensure_database(URL)
    try:
        lines = run()
    finally:
        if os.environ.get("BENCH_ANALYTICS_KEEP", "1") == "0":
            drop_database(URL)
    print("\n".join(lines))
    if args.json:
        args.json.write_text(json.dumps({"lines": lines}, ensure_ascii=False))


def run() -> list[str]:
    """Benchmark 6 on this process's database; returns its figures (Markdown)."""
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse
    from django.utils import timezone

    call_command("migrate", verbosity=0)
    from analytics.services.snapshots import snapshots_refresh_incremental
    from members.models import Member, Store, User
    from rewards.models import Purchase
    from rewards.services import purchase_record, purchase_return_record

    print(f"# Benchmark 6: analytics ({platform.node()}, {os.cpu_count()} CPUs)")
    seeded = None
    if not Purchase.objects.exists():
        started = time.monotonic()
        call_command("seed_demo", members=MEMBERS, purchases=PURCHASES, months=MONTHS)
        seeded = time.monotonic() - started
        print(f"seed: {seeded:.1f} s (see its output above)")
    n_purchases = Purchase.objects.count()
    n_members = Member.objects.count()
    print(f"data: {n_members} members, {n_purchases} purchases")

    started = time.monotonic()
    call_command("analytics_recompute")
    full = time.monotonic() - started
    # Baseline: the raw rows every snapshot is made from, read once and grouped by
    # day in plain SQL (purchases with their lines, ledger entries): the floor of
    # any recomputation over the same data.
    started = time.monotonic()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT date_trunc('day', p.occurred_at), p.store_id, count(*),"
            " sum(p.total), sum(l.amount) FROM rewards_purchase p"
            " LEFT JOIN rewards_purchaseline l ON l.purchase_id = p.id"
            " GROUP BY 1, 2"
        )
        cursor.fetchall()
        cursor.execute(
            "SELECT date_trunc('day', created_at), kind, count(*), sum(points)"
            " FROM rewards_ledgerentry GROUP BY 1, 2"
        )
        cursor.fetchall()
    raw = time.monotonic() - started
    figures = [
        f"Data: {n_members} members, {n_purchases} purchases"
        + (f", seeded in {seeded:.1f} s." if seeded is not None else " (kept)."),
        "",
        f"Full recompute: {full:.1f} s; baseline (the raw rows read once, grouped"
        f" by day): {raw:.1f} s; ratio {raw / full:.2f}.",
    ]
    print(figures[-1])

    # A day's activity: new purchases now, a few returns of older ones.
    stores = list(Store.objects.order_by("pk")[:3])
    members = list(Member.objects.order_by("?")[:NIGHTLY_PURCHASES])
    now = timezone.now()
    stamp = int(time.time())
    nums = numbers("analytics")
    for i, member in enumerate(members):
        purchase_record(
            store=stores[i % len(stores)],
            member=member,
            receipt_id=nums.receipt("N", stamp, i),
            total=Decimal("99.50"),
            occurred_at=now,
        )
    for i, purchase in enumerate(
        Purchase.objects.filter(returned_total=0).order_by("-id")[
            NIGHTLY_PURCHASES : NIGHTLY_PURCHASES + NIGHTLY_RETURNS
        ]
    ):
        purchase_return_record(
            purchase=purchase,
            store=purchase.store,
            receipt_id=nums.receipt("R", stamp, i),
            amount=half(purchase.total),
        )
    started = time.monotonic()
    result = snapshots_refresh_incremental()
    nightly = time.monotonic() - started
    figures.append(
        f"Incremental nightly ({len(members)} purchases, {NIGHTLY_RETURNS} "
        f"returns): {nightly:.1f} s ({result.days} days, {len(result.months)} "
        "months)."
    )
    print(figures[-1])

    manager = User.objects.get(username="manager")
    client = Client()
    client.force_login(manager)
    pages = [
        ("Overview (3 months)", reverse("admin:analytics_overview"), {}),
        ("Overview (12 months)", reverse("admin:analytics_overview"), "12"),
        ("Overview, one store", reverse("admin:analytics_overview"), "store"),
        ("Program", reverse("admin:analytics_program"), {}),
        ("Cohorts", reverse("admin:analytics_cohorts"), {}),
        ("CSV: all metrics", reverse("admin:analytics_export", args=["metrics"]), {}),
        ("CSV: daily", reverse("admin:analytics_export", args=["daily"]), "12"),
    ]
    from analytics.selectors.periods import local_month, month_add

    this = local_month()
    # Baseline: a staff page that computes nothing (the admin index), same
    # client, same login, same middleware.
    pages.append(("Admin index (baseline)", reverse("admin:index"), {}))
    rows = []
    for label, url, params in pages:
        if params == "12":
            params = {"from": f"{month_add(this, -11):%Y-%m}", "to": f"{this:%Y-%m}"}
        elif params == "store":
            params = {"store": stores[0].pk}
        times = []
        for _ in range(REPEAT):
            with CaptureQueriesContext(connection) as queries:
                started = time.monotonic()
                response = client.get(url, params)
                times.append((time.monotonic() - started) * 1000)
            assert response.status_code == 200, (label, response.status_code)
        rows.append((label, statistics.median(times), max(times), len(queries)))
    baseline = rows[-1][1]
    figures += [
        "",
        f"Pages (median of {REPEAT} requests):",
        "",
        "| page | median ms | max ms | queries | median ratio to baseline |",
        "|---|---:|---:|---:|---:|",
    ]
    for label, median, slowest, queries in rows:
        figures.append(
            f"| {label} | {median:.0f} | {slowest:.0f} | {queries} "
            f"| {median / baseline:.1f} |"
        )
    return figures


if __name__ == "__main__":
    main()
