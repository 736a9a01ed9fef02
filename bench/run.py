"""Benchmarks. `make bench` runs them; figures are pasted into docs/BENCHMARKS.md.

1. Ledger earn: purchases per second through rewards.services.purchase_record on
   PostgreSQL, against the same SQL statements issued raw through psycopg in one
   transaction each (the floor the ORM and the service could reach).
2. POS API under gunicorn: earn requests per second and latency at 16 and 64
   connections, against /healthz (bench/web_load.py).
3. Customer dashboard: p95 at 50 logged-in customers, against a static file.
4. Hot member: 32 processes earning and redeeming on one member, against 32
   members (bench/hot_member.py).
5. Campaign fan-out: 100 000 recipients through Celery on Redis: time to queue,
   messages per second into the outbox (bench/campaign_fanout.py).
7. Bulk CSV import: rows per second through import_members and
   import_purchases, against the same rows with bulk_create (bench/imports.py).

`python bench/run.py [earn] [api] [dashboard] [hot] [campaigns] [import] [cpu]` runs
some; none, all. cpu: queries and Django CPU per request, in process
(bench/request_cpu.py).
Needs PostgreSQL: BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/loyalty_bench);
the database is created, and dropped at the end (BENCH_KEEP=1 keeps it).
"""

from __future__ import annotations

import datetime as dt
import os
import platform
import sys
import time
import urllib.request
from decimal import Decimal
from pathlib import Path

import campaign_fanout
import hot_member  # bench/, beside this file
import imports as bench_imports
import web_load

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
URL = os.environ.get(
    "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/loyalty_bench"
)
os.environ["DATABASE_URL"] = URL
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "loyalty_site.settings")
# The same key in gunicorn (bench/web_load.py inherits it): the customers' sessions
# made here must be valid there.
os.environ.setdefault("SECRET_KEY", "bench-only-" + "k" * 50)
os.environ.setdefault("LANGUAGE_CODE", "en")
N_MEMBERS = int(os.environ.get("BENCH_MEMBERS", "200"))
N_OPS = int(os.environ.get("BENCH_OPS", "3000"))
BENCH_HISTORY = int(os.environ.get("BENCH_HISTORY", "24"))  # purchases per customer
STATIC_FILE = "/static/js/referral.js"


def ensure_database() -> None:
    import psycopg

    base, name = URL.rsplit("/", 1)
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        if not conn.execute(
            "SELECT 1 FROM pg_database WHERE datname=%s", (name,)
        ).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def drop_database() -> None:
    import psycopg
    from django.db import connections

    connections.close_all()
    base, name = URL.rsplit("/", 1)
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def progress(label: str, done: int, total: int) -> None:
    if done % max(1, total // 10) == 0 or done == total:
        print(
            f"\r  {label}: {done}/{total}", end="" if done < total else "\n", flush=True
        )


def setup():
    ensure_database()
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("flush", interactive=False, verbosity=0)
    call_command("migrate", verbosity=0)  # the data migrations' rows again

    from members.models import Store
    from members.services import member_enroll

    store = Store.objects.create(code="bench", name="Bench")
    print(f"Enrolling {N_MEMBERS} members...")
    members = []
    for i in range(N_MEMBERS):
        members.append(member_enroll(phone=f"+38067{i:07d}", store=store))
        progress("members", i + 1, N_MEMBERS)
    return store, members


def bench_earn(store, members) -> list[str]:
    from django.db import connection

    from rewards.models import Purchase
    from rewards.selectors import ledger_discrepancies
    from rewards.services import purchase_record

    print(f"1. Ledger earn through the service: {N_OPS} purchases")
    t0 = time.perf_counter()
    for i in range(N_OPS):
        purchase_record(
            store=store,
            member=members[i % N_MEMBERS],
            receipt_id=f"svc-{i}",
            total=Decimal("123.45"),
            source=Purchase.Source.API,
        )
        progress("service", i + 1, N_OPS)
    service_s = time.perf_counter() - t0
    assert ledger_discrepancies() == []

    # The same statements raw: lock the account reading with it the receipt, the
    # membership in force, a pending referral and the configuration token; insert
    # the purchase, move the balance, append the entry, open the lot; one
    # transaction each.
    import psycopg

    from rewards.services.purchases import _account_lock_sql

    lock_sql = _account_lock_sql("postgresql")  # the service's own statement
    account_ids = {m.pk: m.account.pk for m in members}
    connection.close()
    print(f"   raw psycopg: {N_OPS} purchases")
    with psycopg.connect(URL) as conn:
        t0 = time.perf_counter()
        for i in range(N_OPS):
            member_id = members[i % N_MEMBERS].pk
            now = dt.datetime.now(dt.UTC)
            with conn.transaction():
                conn.execute(
                    lock_sql,
                    (
                        store.pk,
                        f"raw-{i}",
                        "active",
                        now,
                        now,
                        "active",
                        now,
                        now,
                        "pending",
                        member_id,
                    ),
                ).fetchone()
                pid = conn.execute(
                    "INSERT INTO rewards_purchase (store_id, receipt_id, member_id, total, occurred_at,"
                    " points_earned, points_per_unit, min_purchase, balance_after, returned_total,"
                    " points_reversed, source, fingerprint, created_at, points_exact,"
                    " eligible_total, tier_multiplier, membership_multiplier)"
                    " VALUES (%s,%s,%s,123.45,now(),123,1,0,0,0,0,'api','x',now(),"
                    " 123.45,123.45,1,1) RETURNING id",
                    (store.pk, f"raw-{i}", member_id),
                ).fetchone()[0]
                conn.execute(
                    "UPDATE rewards_pointsaccount SET balance=balance+123, updated_at=now() WHERE id=%s",
                    (account_ids[member_id],),
                )
                eid = conn.execute(
                    "INSERT INTO rewards_ledgerentry (account_id, kind, points, balance_after, reason,"
                    " purchase_id, created_at, breakdown)"
                    " VALUES (%s,'earn',123,0,'raw',%s,now(),'[]') RETURNING id",
                    (account_ids[member_id], pid),
                ).fetchone()[0]
                conn.execute(  # the points lot the credit opens
                    "INSERT INTO rewards_pointslot (account_id, entry_id, points, remaining,"
                    " earned_at, available_at) VALUES (%s,%s,123,123,now(),now())",
                    (account_ids[member_id], eid),
                )
            progress("raw", i + 1, N_OPS)
        raw_s = time.perf_counter() - t0

    svc_rate, raw_rate = N_OPS / service_s, N_OPS / raw_s
    return [
        "### 1. Ledger earn",
        "",
        "| benchmark | ops | seconds | ops/s | ratio to baseline |",
        "|---|---|---|---|---|",
        f"| earn via purchase_record (Django ORM) | {N_OPS} | {service_s:.2f} "
        f"| {svc_rate:.0f} | {svc_rate / raw_rate:.2f} |",
        f"| same SQL via raw psycopg (baseline) | {N_OPS} | {raw_s:.2f} "
        f"| {raw_rate:.0f} | 1.00 |",
    ]


def _queries(client, method: str, path: str, **kwargs) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        response = getattr(client, method)(path, **kwargs)
    assert response.status_code < 300, (path, response.status_code)
    return len(ctx.captured_queries)


def _cpu_ms(call, n: int = 50) -> float:
    """Median CPU time of this process per call, in ms: Django's own cost, without
    PostgreSQL's, and far less moved by other load on the machine than wall time."""
    import statistics

    times = []
    for i in range(n):
        t0 = time.process_time()
        call(i)
        times.append((time.process_time() - t0) * 1000)
    return statistics.median(times)


def _latency_row(label: str, r: dict, base: dict) -> str:
    errors = r["unexpected_status"] + r["socket_errors"]
    return (
        f"| {label} | {r['connections']} | {r['rps']:.0f} | {r['rps'] / base['rps']:.2f} "
        f"| {r['p50_ms']:.1f} | {r['p95_ms']:.1f} | {r['p99_ms']:.1f} "
        f"| {r['p95_ms'] / base['p95_ms']:.1f} | {errors} |"
    )


LATENCY_HEADER = [
    "| requests | connections | req/s | ratio to baseline req/s | p50 ms | p95 ms "
    "| p99 ms | p95 ratio to baseline | errors |",
    "|---|---|---|---|---|---|---|---|---|",
]


def bench_api(store, members, wrk: str, server) -> list[str]:
    from django.test import Client

    from members.services import api_token_create
    from rewards.models import Purchase
    from rewards.selectors import ledger_discrepancies

    _token, raw = api_token_create(store=store, name="bench till")
    cards = [m.card_number for m in members]
    client = Client(HTTP_HOST="127.0.0.1", HTTP_AUTHORIZATION=f"Token {raw}")
    for receipt in ("q-0", "q-1"):  # the first loads the process's earn configuration
        queries = _queries(
            client,
            "post",
            "/api/v1/purchases",
            data={"card_number": cards[0], "receipt_id": receipt, "total": "10.00"},
            content_type="application/json",
        )
    earn_cpu = _cpu_ms(
        lambda i: client.post(
            "/api/v1/purchases",
            data={
                "card_number": cards[i % len(cards)],
                "receipt_id": f"cpu-{i}",
                "total": "10.00",
            },
            content_type="application/json",
        )
    )
    health_cpu = _cpu_ms(lambda i: client.get("/healthz"))
    before = Purchase.objects.count()
    print("2. POS API under gunicorn: earn and /healthz at 16 and 64 connections")
    rows = web_load.api_earn(wrk, server, token=raw, cards=cards)
    created = Purchase.objects.count() - before
    answered = sum(earn["requests"] for _c, earn, _b in rows)
    exact = ledger_discrepancies() == []
    lines = [
        f"### 2. POS API under gunicorn ({server.workers} sync workers)",
        "",
        *LATENCY_HEADER,
    ]
    for _c, earn, base in rows:
        lines.append(_latency_row("POST /api/v1/purchases (earn)", earn, base))
        lines.append(_latency_row("GET /healthz (baseline)", base, base))
    lines += [
        "",
        f"Earn requests answered in the measured runs: {answered}; purchases "
        f"written, warm-ups included: {created}; balance == sum(entries) for "
        f"every account: {exact}. Queries per earn request: {queries}. "
        f"Django CPU per request, in process (median of 50): earn "
        f"{earn_cpu:.1f} ms, /healthz {health_cpu:.1f} ms "
        f"(ratio {earn_cpu / health_cpu:.1f}).",
    ]
    return lines


def _customers(store, n: int, tag: str = "bench", phones: str = "+38063"):
    """n customers with a login, a year of purchases and tiers, logged in:
    (their session keys, the last one's client). `tag` and `phones` keep two
    callers' customers apart in one database (bench/request_cpu.py)."""
    import datetime as dt

    from django.contrib.auth import get_user_model
    from django.test import Client
    from django.utils import timezone

    from members.services import member_enroll
    from rewards.models import Tier
    from rewards.services import purchase_record

    if not Tier.objects.exists():
        for rank, (name, threshold) in enumerate(
            [("Bronze", 0), ("Silver", 5000), ("Gold", 20000)], start=1
        ):
            Tier.objects.create(name=name, rank=rank, threshold=Decimal(threshold))
    user_model = get_user_model()
    now = timezone.now()
    cookies = []
    for i in range(n):
        member = member_enroll(
            phone=f"{phones}{i:07d}", store=store, email=f"{tag}{i}@example.com"
        )
        user = user_model.objects.create_user(
            username=f"{tag}{i}@example.com", password="x" * 12
        )
        member.user = user
        member.save(update_fields=["user"])
        for k in range(BENCH_HISTORY):
            purchase_record(
                store=store,
                member=member,
                receipt_id=f"{tag}-hist-{i}-{k}",
                total=Decimal("150.00") + k,
                occurred_at=now - dt.timedelta(days=365 * k / BENCH_HISTORY + 1),
            )
        client = Client(HTTP_HOST="127.0.0.1")
        client.force_login(user)
        cookies.append(client.cookies["sessionid"].value)
        progress("customers", i + 1, n)
    return cookies, client


def bench_dashboard(store, wrk: str, server) -> list[str]:
    from django.contrib.staticfiles import finders  # noqa: F401 - staticfiles is set up
    from django.urls import reverse

    path = reverse("portal:dashboard")
    print(f"3. Dashboard: 50 customers with {BENCH_HISTORY} purchases each")
    cookies, client = _customers(store, 50)
    queries = _queries(client, "get", path)
    page_cpu = _cpu_ms(lambda i: client.get(path))
    with urllib.request.urlopen(server.url + STATIC_FILE) as r:  # noqa: S310
        size = len(r.read())
    page, static = web_load.dashboard(
        wrk, server, path=path, cookies=cookies, static_path=STATIC_FILE
    )
    return [
        "### 3. Customer dashboard, 50 logged-in customers at once",
        "",
        *LATENCY_HEADER,
        _latency_row(f"GET {path} (logged in)", page, static),
        _latency_row(f"GET {STATIC_FILE} ({size} B, baseline)", static, static),
        "",
        f"Queries per dashboard page: {queries}. Django CPU per page, in "
        f"process (median of 50): {page_cpu:.1f} ms.",
    ]


def bench_hot(store) -> list[str]:
    print(
        f"4. Hot member: {hot_member.WRITERS} processes x {hot_member.OPS} writes, "
        "one member, then spread over as many members"
    )
    hot, spread, exact = hot_member.main(store=store)
    lines = [
        f"### 4. Hot member: {hot_member.WRITERS} writers at once, "
        f"{hot_member.OPS} writes each (earn and redeem alternately)",
        "",
        "| members written | ops | seconds | ops/s | ratio to baseline | errors "
        "| deadlocks (pg_stat_database) |",
        "|---|---|---|---|---|---|---|",
    ]
    for label, r in [("one (hot)", hot), (f"{hot_member.WRITERS} (baseline)", spread)]:
        lines.append(
            f"| {label} | {r['ops']} | {r['seconds']:.2f} | {r['ops_per_s']:.0f} "
            f"| {r['ops_per_s'] / spread['ops_per_s']:.2f} | {r['errors'] or 0} "
            f"| {r['deadlocks']} |"
        )
    lines += ["", f"balance == sum(entries) for every account afterwards: {exact}."]
    return lines


def main() -> None:
    every = {"earn", "api", "dashboard", "hot", "campaigns", "import", "cpu"}
    wanted = set(sys.argv[1:]) or every
    unknown = wanted - every
    if unknown:
        sys.exit(f"unknown benchmark(s): {', '.join(sorted(unknown))}")
    store, members = setup()
    out: list[str] = []
    try:
        if "earn" in wanted:
            out += bench_earn(store, members) + [""]
        if wanted & {"api", "dashboard"}:
            from django.core.management import call_command

            call_command("collectstatic", interactive=False, verbosity=0)
            wrk = web_load.wrk_ensure()
            with web_load.Gunicorn(URL) as server:
                if "api" in wanted:
                    out += bench_api(store, members, wrk, server) + [""]
                if "dashboard" in wanted:
                    out += bench_dashboard(store, wrk, server) + [""]
        if "cpu" in wanted:
            import request_cpu

            out += request_cpu.measure(store, members) + [""]
        if "hot" in wanted:
            out += bench_hot(store) + [""]
        if "campaigns" in wanted:
            out += [
                "| benchmark 5 | time | rate |",
                "|---|---|---|",
                *campaign_fanout.run(),
                "",
            ]
        if "import" in wanted:  # last: it empties the database for its baseline
            out += [
                "| benchmark | rows | seconds | rows/s | ratio to baseline |",
                "|---|---|---|---|---|",
                *bench_imports.run(),
                "",
            ]
    finally:
        if os.environ.get("BENCH_KEEP") != "1":
            drop_database()
    import psycopg

    with psycopg.connect(URL.rsplit("/", 1)[0] + "/postgres") as conn:
        pg = conn.execute("SHOW server_version").fetchone()[0]
    print()
    print(
        f"Machine: {os.cpu_count()} cores · Python {platform.python_version()} · "
        f"PostgreSQL {pg} · {N_MEMBERS} members · {time.strftime('%Y-%m-%d')}"
    )
    print()
    print("\n".join(out))


if __name__ == "__main__":
    main()
