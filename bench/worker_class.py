"""gunicorn sync workers against gthread workers for the earn API at 64 connections.

The same 5 workers (2 × cores + 1) either way, gthread with BENCH_THREADS (4)
threads each; wrk and the Lua scripts of bench/web_load.py, on one database with
bench/run.py's data. The machine is shared, so the two are measured alternately,
BENCH_ROUNDS (2) times, each run with the load average before it, and /healthz at
the same concurrency on the same server as the baseline.

`python bench/worker_class.py` (BENCH_DATABASE_URL, default
postgres://postgres@127.0.0.1:5432/loyalty_bench_web, created and dropped).
"""

from __future__ import annotations

import os
import sys
import time

CONNECTIONS = 64
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "2"))
THREADS = int(os.environ.get("BENCH_THREADS", "4"))


def main() -> None:
    os.environ.setdefault(
        "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/loyalty_bench_web"
    )
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import run  # bench/run.py: the database, settings and members
    import web_load
    from registry import numbers

    run.configure()
    store, members = run.setup()
    try:
        from django.core.management import call_command

        from members.services import api_token_create
        from rewards.models import Purchase
        from rewards.selectors.invariants import ledger_discrepancies

        call_command("collectstatic", interactive=False, verbosity=0)
        _token, raw = api_token_create(store=store, name="bench till")
        cards = web_load.lua_list([m.card_number for m in members])
        wrk = web_load.wrk_ensure()
        kinds = [
            ("sync", {}),
            (f"gthread × {THREADS}", {"worker_class": "gthread", "threads": THREADS}),
        ]
        prefix = numbers("api").receipt_prefix  # its earn load is benchmark 2's
        rows = []
        for n in range(ROUNDS):
            for label, options in kinds:
                print(f"round {n + 1}: {label}")
                with web_load.Gunicorn(run.database_url(), **options) as server:
                    load = os.getloadavg()[0]
                    earn = web_load.wrk_run(
                        wrk,
                        server.url,
                        connections=CONNECTIONS,
                        script=f"EXPECTED = 201\nRUN = '{prefix}{label[:4]}{n}-' "
                        ".. os.time()\n"
                        "tid = 0\n"
                        + web_load.LUA_EARN.replace("{CARDS}", cards).replace(
                            "TOKEN", raw
                        ),
                    )
                    base = web_load.wrk_run(
                        wrk,
                        server.url,
                        connections=CONNECTIONS,
                        script="EXPECTED = 200\nPATH = '/healthz'\n" + web_load.LUA_GET,
                    )
                rows.append((n + 1, label, load, earn, base))
        exact = ledger_discrepancies() == []
        written = Purchase.objects.count()
    finally:
        if os.environ.get("BENCH_KEEP") != "1":
            run.drop_database()
    print()
    print(
        f"### gunicorn worker class, earn API at {CONNECTIONS} connections "
        f"({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {os.cpu_count()} cores)"
    )
    print()
    print(
        "| round | workers | loadavg 1 min before | earn req/s | earn p50 ms "
        "| earn p95 ms | earn p99 ms | errors | /healthz req/s | /healthz p95 ms |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for n, label, load, earn, base in rows:
        errors = earn["unexpected_status"] + earn["socket_errors"]
        print(
            f"| {n} | {label} | {load:.2f} | {earn['rps']:.0f} | {earn['p50_ms']:.1f} "
            f"| {earn['p95_ms']:.1f} | {earn['p99_ms']:.1f} | {errors} "
            f"| {base['rps']:.0f} | {base['p95_ms']:.1f} |"
        )
    print()
    print(
        f"Purchases written: {written}; balance == sum(entries) for every "
        f"account: {exact}."
    )


if __name__ == "__main__":
    main()
