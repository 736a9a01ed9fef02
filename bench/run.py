"""Benchmarks. `make bench` runs them; figures are pasted into docs/BENCHMARKS.md
by hand (this script writes no file there).

The list is bench/registry.py's BENCHMARKS, in the order they run:

1. earn: purchases per second through rewards.services.purchase_record on
   PostgreSQL, against the same SQL issued raw through psycopg in one
   transaction each, in the service's shape (the lock statement, then one WITH
   that writes the purchase, balance, entry and lot): the floor the ORM and
   the service could reach. The issue's first baseline (the four writes one
   by one) is shown beside it.
2. api: POS API under gunicorn: earn requests per second and latency at 16 and 64
   connections, against /healthz (bench/web_load.py).
3. dashboard: customer dashboard: p95 at 50 logged-in customers, against a
   static file.
   cpu: queries and Django CPU per request, in process (bench/request_cpu.py).
4. hot: 32 processes earning and redeeming on one member, against 32 members
   (bench/hot_member.py).
5. campaigns: 100 000 recipients through Celery on Redis: time to queue,
   messages per second into the outbox (bench/campaign_fanout.py).
6. analytics: bench/analytics.py in a process of its own, on its own database
   (kept between runs: its seed takes minutes).
7. import: bulk CSV import: rows per second through import_members and
   import_purchases, against the same rows with bulk_create (bench/imports.py);
   then 10 000 members of an earlier program with opening balances, tiers and
   consents through import_members (dry run, then the import; must stay under
   60 s), and verify_ledger's checks after it.
9. promo: a batch of 100 000 unique promo codes through promo_batch_generate
   (the issue's bound: under 30 s), and its CSV export.

`python bench/run.py [NAME ...] [--tiny] [--json PATH]` runs some; none, all.
Every benchmark takes its phones, cards and receipt ids from registry.numbers,
so none collides with another's. A benchmark that fails is reported and the
others still run; the exit status is 1 then. --tiny runs every benchmark at a
size that only proves it works (registry.TINY: a few members, a second of
load); --json also writes each benchmark's outcome and figures to PATH.
Needs PostgreSQL: BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/loyalty_bench);
the database is created, and dropped at the end (BENCH_KEEP=1 keeps it).
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import os
import platform
import sys
import time
import traceback
import urllib.request
from contextlib import ExitStack
from decimal import Decimal
from pathlib import Path

from harness import (  # bench/
    RAW_EARN,
    ROOT,
    STATIC_FILE,
    Context,
    configure,
    database_url,
    drop_database,
    env_int,
    progress,
    setup,
)
from registry import BENCHMARKS, Numbers, names, numbers  # bench/


def bench_earn(ctx: Context) -> list[str]:
    from django.db import connection

    from rewards.models import Purchase
    from rewards.selectors.invariants import ledger_discrepancies
    from rewards.services import purchase_record

    store, members = ctx.store, ctx.members
    n_ops, n_members = env_int("BENCH_OPS", 3000), len(members)
    nums = numbers("earn")
    print(f"1. Ledger earn through the service: {n_ops} purchases")
    t0 = time.perf_counter()
    for i in range(n_ops):
        purchase_record(
            store=store,
            member=members[i % n_members],
            receipt_id=nums.receipt("svc", i),
            total=Decimal("123.45"),
            source=Purchase.Source.API,
        )
        progress("service", i + 1, n_ops)
    service_s = time.perf_counter() - t0
    assert ledger_discrepancies() == []

    # The same writes raw, one transaction each, in two shapes. The baseline is
    # the service's own: the lock statement (which reads with it the receipt,
    # the membership in force, a pending referral and the configuration token),
    # then ONE statement that inserts the purchase, moves the balance, appends
    # the entry and opens the lot (rewards.ledger_rows.entry_write's WITH).
    # The second is the original baseline, the four writes sent one by
    # one (five statements in all), kept so that the figures of earlier
    # sessions can be compared.
    import psycopg

    from rewards.locks import account_lock_sql

    lock_sql = account_lock_sql("postgresql")  # the service's own statement
    account_ids = {m.pk: m.account.pk for m in members}
    connection.close()

    def lock(conn, member_id: int, receipt: str) -> None:
        now = dt.datetime.now(dt.UTC)
        conn.execute(
            lock_sql,
            (store.pk, receipt, "active", now, now, "active", now, now, "pending")
            + (member_id,),
        ).fetchone()

    def write_one(conn, member_id: int, receipt: str) -> None:
        conn.execute(
            RAW_EARN,
            {
                "account": account_ids[member_id],
                "store": store.pk,
                "receipt": receipt,
                "member": member_id,
                "points": 123,
                "total": Decimal("123.45"),
            },
        )

    def write_four(conn, member_id: int, receipt: str) -> None:
        pid = conn.execute(
            "INSERT INTO rewards_purchase (store_id, receipt_id, member_id, total, occurred_at,"
            " points_earned, points_per_unit, min_purchase, balance_after, returned_total,"
            " points_reversed, source, fingerprint, created_at, points_exact,"
            " eligible_total, tier_multiplier, membership_multiplier)"
            " VALUES (%s,%s,%s,123.45,now(),123,1,0,0,0,0,'api','x',now(),"
            " 123.45,123.45,1,1) RETURNING id",
            (store.pk, receipt, member_id),
        ).fetchone()[0]
        balance = conn.execute(
            "UPDATE rewards_pointsaccount SET balance=balance+123, updated_at=now()"
            " WHERE id=%s RETURNING balance",
            (account_ids[member_id],),
        ).fetchone()[0]
        eid = conn.execute(  # balance_after kept, as verify_ledger checks
            "INSERT INTO rewards_ledgerentry (account_id, kind, points, balance_after, reason,"
            " reason_code, reason_params, purchase_id, created_at, breakdown)"
            " VALUES (%s,'earn',123,%s,'raw','purchase_earn','{}',%s,now(),'[]')"
            " RETURNING id",
            (account_ids[member_id], balance, pid),
        ).fetchone()[0]
        conn.execute(  # the points lot the credit opens
            "INSERT INTO rewards_pointslot (account_id, entry_id, points, remaining,"
            " earned_at, available_at) VALUES (%s,%s,123,123,now(),now())",
            (account_ids[member_id], eid),
        )

    raw_seconds = {}
    for shape, write in (("raw", write_one), ("raw5", write_four)):
        print(f"   raw psycopg ({shape}): {n_ops} purchases")
        with psycopg.connect(database_url()) as conn:
            t0 = time.perf_counter()
            for i in range(n_ops):
                member_id = members[i % n_members].pk
                receipt = nums.receipt(shape, i)
                with conn.transaction():
                    lock(conn, member_id, receipt)
                    write(conn, member_id, receipt)
                progress(shape, i + 1, n_ops)
            raw_seconds[shape] = time.perf_counter() - t0
    raw_s, raw5_s = raw_seconds["raw"], raw_seconds["raw5"]
    assert ledger_discrepancies() == []

    svc_rate, raw_rate = n_ops / service_s, n_ops / raw_s
    return [
        "### 1. Ledger earn",
        "",
        "| benchmark | ops | seconds | ops/s | ratio to baseline |",
        "|---|---|---|---|---|",
        f"| earn via purchase_record (Django ORM) | {n_ops} | {service_s:.2f} "
        f"| {svc_rate:.0f} | {svc_rate / raw_rate:.2f} |",
        f"| same SQL via raw psycopg: lock, one WITH (baseline) | {n_ops} "
        f"| {raw_s:.2f} | {raw_rate:.0f} | 1.00 |",
        f"| the issue's first baseline: lock, then four writes one by one | {n_ops} "
        f"| {raw5_s:.2f} | {n_ops / raw5_s:.0f} | {n_ops / raw5_s / raw_rate:.2f} |",
        "",
        f"Earn through the service against the issue's first baseline: "
        f"{svc_rate * raw5_s / n_ops:.2f}.",
    ]


def _queries(client, method: str, path: str, **kwargs) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        response = getattr(client, method)(path, **kwargs)
    assert response.status_code < 300, (path, response.status_code)
    return len(ctx.captured_queries)


def _cpu_ms(call, n: int | None = None, *, expected: int = 200) -> float:
    """Median CPU time of this process per call, in ms: Django's own cost, without
    PostgreSQL's, and far less moved by other load on the machine than wall time.
    Every response must have the status `expected`: a refusal (a 429 from the
    rate limit, a 400) is far cheaper than the request meant, and would pass
    for it."""
    import statistics

    times = []
    for i in range(n or env_int("BENCH_CPU_SAMPLES", 50)):
        t0 = time.process_time()
        response = call(i)
        times.append((time.process_time() - t0) * 1000)
        assert response.status_code == expected, (response.status_code, i)
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


def bench_api(ctx: Context) -> list[str]:
    import web_load
    from django.conf import settings
    from django.test import Client, override_settings

    from members.services import api_token_create
    from rewards.models import Purchase, Tier
    from rewards.selectors.invariants import ledger_discrepancies

    nums = numbers("api")
    _token, raw = api_token_create(store=ctx.store, name="bench till")
    cards = [m.card_number for m in ctx.members]
    client = Client(HTTP_HOST="127.0.0.1", HTTP_AUTHORIZATION=f"Token {raw}")
    for k in range(2):  # the first loads the process's earn configuration
        queries = _queries(
            client,
            "post",
            "/api/v1/purchases",
            data={
                "card_number": cards[0],
                "receipt_id": nums.receipt("q", k),
                "total": "10.00",
            },
            content_type="application/json",
        )
    # The rate limit lifted, as bench/request_cpu.py does: this process's till
    # token is counted in the shared cache at the settings' 600/min.
    rest = {"DEFAULT_THROTTLE_RATES": {"api_token": "100000000/min"}}
    with override_settings(REST_FRAMEWORK={**settings.REST_FRAMEWORK, **rest}):
        earn_cpu = _cpu_ms(
            lambda i: client.post(
                "/api/v1/purchases",
                data={
                    "card_number": cards[i % len(cards)],
                    "receipt_id": nums.receipt("cpu", i),
                    "total": "10.00",
                },
                content_type="application/json",
            ),
            expected=201,
        )
        health_cpu = _cpu_ms(lambda i: client.get("/healthz"))
    tiers = Tier.objects.exists()
    wrk, server = ctx.wrk(), ctx.server()
    before = Purchase.objects.count()
    connections = web_load.api_connections()
    print(
        "2. POS API under gunicorn: earn and /healthz at "
        f"{' and '.join(map(str, connections))} connections"
    )
    rows = web_load.api_earn(
        wrk, server, token=raw, cards=cards, receipt_prefix=nums.receipt_prefix
    )
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
        f"Django CPU per request, in process (median of "
        f"{env_int('BENCH_CPU_SAMPLES', 50)}): earn "
        f"{earn_cpu:.1f} ms, /healthz {health_cpu:.1f} ms "
        f"(ratio {earn_cpu / health_cpu:.1f}"
        + (
            "; no tiers exist yet, so no tier check: benchmark 8 "
            "(bench/request_cpu.py) measures the earn with tiers)."
            if not tiers
            else ")."
        ),
    ]
    return lines


def customers_make(store, n: int, nums: Numbers):
    """n customers with a login, a year of purchases and tiers, logged in:
    (their session keys, the last one's client). Phones, logins and receipts
    are `nums`' (benchmark 3's, or bench/request_cpu.py's)."""
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
    history = env_int("BENCH_HISTORY", 24)  # purchases per customer
    now = timezone.now()
    cookies = []
    for i in range(n):
        member = member_enroll(phone=nums.phone(i), store=store, email=nums.email(i))
        user = user_model.objects.create_user(username=nums.email(i), password="x" * 12)
        member.user = user
        member.save(update_fields=["user"])
        for k in range(history):
            purchase_record(
                store=store,
                member=member,
                receipt_id=nums.receipt("hist", i, k),
                total=Decimal("150.00") + k,
                occurred_at=now - dt.timedelta(days=365 * k / history + 1),
            )
        client = Client(HTTP_HOST="127.0.0.1")
        client.force_login(user)
        cookies.append(client.cookies["sessionid"].value)
        progress("customers", i + 1, n)
    return cookies, client


def bench_dashboard(ctx: Context) -> list[str]:
    import web_load
    from django.urls import reverse

    path = reverse("portal:dashboard")
    n = env_int("BENCH_CUSTOMERS", 50)
    print(
        f"3. Dashboard: {n} customers with {env_int('BENCH_HISTORY', 24)} "
        "purchases each"
    )
    cookies, client = customers_make(ctx.store, n, numbers("dashboard"))
    wrk, server = ctx.wrk(), ctx.server()
    queries = _queries(client, "get", path)
    page_cpu = _cpu_ms(lambda i: client.get(path))
    with urllib.request.urlopen(server.url + STATIC_FILE) as r:  # noqa: S310
        size = len(r.read())
    page, static = web_load.dashboard(
        wrk, server, path=path, cookies=cookies, static_path=STATIC_FILE
    )
    return [
        f"### 3. Customer dashboard, {n} logged-in customers at once",
        "",
        *LATENCY_HEADER,
        _latency_row(f"GET {path} (logged in)", page, static),
        _latency_row(f"GET {STATIC_FILE} ({size} B, baseline)", static, static),
        "",
        f"Queries per dashboard page: {queries}. Django CPU per page, in "
        f"process (median of {env_int('BENCH_CPU_SAMPLES', 50)}): "
        f"{page_cpu:.1f} ms.",
    ]


def bench_cpu(ctx: Context) -> list[str]:
    import request_cpu

    ctx.static()  # the dashboard's {% static %} needs the collected files
    return request_cpu.measure(ctx.store, ctx.members)


def bench_hot(ctx: Context) -> list[str]:
    import statistics

    import hot_member

    print(
        f"4. Hot member: {hot_member.REPEAT} x ({hot_member.WRITERS} processes x "
        f"{hot_member.OPS} writes on one member, then spread over as many members)"
    )
    pairs, raw_pairs, exact = hot_member.main(store=ctx.store)
    lines = [
        f"### 4. Hot member: {hot_member.WRITERS} writers at once, "
        f"{hot_member.OPS} writes each (earn and redeem alternately), "
        f"{hot_member.REPEAT} pairs back to back",
    ]
    medians = {}
    for kind, runs in (("through the services", pairs), ("raw (psycopg)", raw_pairs)):
        ratios = [hot["ops_per_s"] / spread["ops_per_s"] for hot, spread in runs]
        medians[kind] = statistics.median(ratios)
        lines += [
            "",
            f"Writes {kind}:",
            "",
            "| pair | first | hot ops/s | baseline ops/s | ratio | errors "
            "| deadlocks (pg_stat_database) |",
            "|---|---|---|---|---|---|---|",
        ]
        for r, (hot, spread) in enumerate(runs):
            errors = {
                k: hot["errors"].get(k, 0) + spread["errors"].get(k, 0)
                for k in hot["errors"].keys() | spread["errors"].keys()
            }
            lines.append(
                f"| {r + 1} | {'hot' if r % 2 == 0 else 'baseline'} "
                f"| {hot['ops_per_s']:.0f} | {spread['ops_per_s']:.0f} "
                f"| {ratios[r]:.2f} | {errors or 0} "
                f"| {hot['deadlocks'] + spread['deadlocks']} |"
            )
        lines += [
            "",
            f"Median ratio (hot ops/s to baseline ops/s) of {len(ratios)} pairs: "
            f"**{medians[kind]:.2f}** (range {min(ratios):.2f}-{max(ratios):.2f}).",
        ]
    raw_errors = [spread["errors"] or hot["errors"] for hot, spread in raw_pairs]
    if any(raw_errors):  # the floor is only a floor if every raw write was made
        raise RuntimeError(f"The raw writes failed: {raw_errors}")
    service, raw = medians.values()
    lines += [
        "",
        f"The services' median ratio against the raw writes' (PostgreSQL's own "
        f"floor for one row): {service:.2f} / {raw:.2f} = **{service / raw:.2f}**.",
        "Every check of verify_ledger holds afterwards (each balance the sum "
        "of its entries, each entry's balance the running sum in time order, "
        "the lots).",
    ]
    if not exact:  # points are money: a write path that breaks it fails the bench
        raise RuntimeError("The ledger's invariants broke under the hot member.")
    return lines


def bench_campaigns(ctx: Context) -> list[str]:
    import campaign_fanout

    return [
        "### 5. Campaign fan-out",
        "",
        "| benchmark 5 | time | rate |",
        "|---|---|---|",
        *campaign_fanout.run(),
    ]


def bench_analytics(ctx: Context) -> list[str]:
    """bench/analytics.py in a process of its own: it works on its own database
    (kept between runs, so that the seed of 1 M purchases is paid once)."""
    import subprocess
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "analytics.json"
        subprocess.run(  # noqa: S603 - our own script, with this interpreter
            [
                sys.executable,
                str(Path(__file__).with_name("analytics.py")),
                "--json",
                str(out),
            ],
            check=True,
            cwd=ROOT,
        )
        return ["### 6. Analytics", "", *json.loads(out.read_text())["lines"]]


def bench_import(ctx: Context) -> list[str]:
    import imports as bench_imports

    # Moving from an earlier program: 10 000 members with balances (issue 15),
    # first: run() ends with its baseline's rows, which have no points lots,
    # and verify_ledger's checks run over the whole database.
    migration = bench_imports.run_migration()
    return [
        "### 7. Bulk CSV import",
        "",
        "| benchmark | rows | seconds | rows/s | ratio to baseline |",
        "|---|---|---|---|---|",
        *bench_imports.run(),
        *migration,
    ]


def bench_promo(ctx: Context) -> list[str]:
    """100 000 promo codes (BENCH_PROMO_CODES) generated in one batch, and the
    batch written as CSV through members.csvexport; the issue asks < 30 s."""
    import io

    from members.csvexport import csv_writer
    from rewards.models import PromoCode, PromoCodeMode
    from rewards.services.promocode_batches import (
        promo_batch_generate,
        promo_batch_rows,
    )

    size = env_int("BENCH_PROMO_CODES", 100_000)
    promo = PromoCode.objects.create(
        name="Bench flyers", mode=PromoCodeMode.BATCH, effect="bonus_points", points=1
    )
    print(f"9. Promo codes: a batch of {size}", flush=True)
    t0 = time.perf_counter()
    batch = promo_batch_generate(
        promo=promo,
        size=size,
        label="bench",
        progress=lambda done, n: progress("codes", done, n),
    )
    generated = time.perf_counter() - t0
    assert batch.keys.count() == size
    t0 = time.perf_counter()
    out = io.StringIO()
    csv_writer(out).writerows(promo_batch_rows(batch))
    exported = time.perf_counter() - t0
    bound = "yes" if generated < 30 else "NO"
    return [
        "### 9. Promo code batch generation",
        "",
        "| step | codes | seconds | codes/s | under 30 s |",
        "|---|---|---|---|---|",
        f"| generate (bulk_create, chunks of 5000) | {size} | {generated:.2f} "
        f"| {size / generated:,.0f} | {bound} |",
        f"| CSV export | {size} | {exported:.2f} | {size / exported:,.0f} | |",
    ]


RUNNERS = {
    "earn": bench_earn,
    "api": bench_api,
    "dashboard": bench_dashboard,
    "cpu": bench_cpu,
    "hot": bench_hot,
    "campaigns": bench_campaigns,
    "analytics": bench_analytics,
    "import": bench_import,
    "promo": bench_promo,
}
assert sorted(RUNNERS) == sorted(names()), "bench/registry.py and RUNNERS differ"


def run(wanted: list[str]) -> list[dict]:
    """Run the benchmarks named in `wanted`, in the registry's order, on a new
    bench database; one that fails is reported and the others still run."""
    results = []
    t0 = time.perf_counter()
    store, members = setup()
    from loyalty_site.process import process_started

    # The services run in this process, as in a worker once started.
    process_started()
    print(f"Set up in {time.perf_counter() - t0:.1f} s.", flush=True)
    try:
        with ExitStack() as stack:
            ctx = Context(store, members, stack)
            for b in BENCHMARKS:
                if b.name not in wanted:
                    continue
                t0 = time.perf_counter()
                result = {"number": b.number, "name": b.name, "title": b.title}
                # What the collector leaves alone (process_started): the smoke
                # test holds every benchmark to a started process.
                result["gc_frozen"] = gc.get_freeze_count()
                try:
                    lines = RUNNERS[b.name](ctx)
                except Exception:  # noqa: BLE001 - reported, and the others run
                    traceback.print_exc()
                    print(
                        f"Benchmark {b.number} ({b.name}) failed; going on.",
                        file=sys.stderr,
                        flush=True,
                    )
                    result.update(ok=False, lines=[], error=traceback.format_exc())
                else:
                    result.update(ok=True, lines=lines, error="")
                result["seconds"] = round(time.perf_counter() - t0, 2)
                results.append(result)
    finally:
        if os.environ.get("BENCH_KEEP") != "1":
            drop_database()
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="The benchmarks; figures on standard output (docs/BENCHMARKS.md "
        "is edited by hand)."
    )
    parser.add_argument(
        "names", nargs="*", metavar="NAME", help=f"some of: {' '.join(names())}"
    )
    parser.add_argument(
        "--tiny",
        action="store_true",
        help="a size that only proves every benchmark works; the figures mean nothing",
    )
    parser.add_argument(
        "--json", type=Path, help="also write each benchmark's outcome and figures here"
    )
    args = parser.parse_args(argv)
    unknown = set(args.names) - set(names())
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(sorted(unknown))}")
    configure(tiny=args.tiny)
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    results = run(args.names or names())

    import psycopg

    with psycopg.connect(database_url().rsplit("/", 1)[0] + "/postgres") as conn:
        pg = conn.execute("SHOW server_version").fetchone()[0]
    machine = (
        f"Machine: {os.cpu_count()} cores · Python {platform.python_version()} · "
        f"PostgreSQL {pg} · {env_int('BENCH_MEMBERS', 200)} members · {started}"
        + (" · --tiny: these figures mean nothing" if args.tiny else "")
    )
    print()
    print(machine)
    print()
    for r in results:
        if r["ok"]:
            print("\n".join(r["lines"]))
        else:
            print(f"### {r['number']}. {r['title']}: FAILED (the error is above)")
        print()
    failed = [r["name"] for r in results if not r["ok"]]
    if failed:
        print(f"Failed: {', '.join(failed)}", file=sys.stderr)
    if args.json:
        args.json.write_text(
            json.dumps(
                {"machine": machine, "tiny": args.tiny, "benchmarks": results},
                indent=2,
                ensure_ascii=False,
            )
        )
    return 1 if failed else 0


if __name__ == "__main__":
    # bench/request_cpu.py and others `import run`: let them find this module
    # rather than load a second copy of it.
    sys.modules.setdefault("run", sys.modules[__name__])
    sys.exit(main())
