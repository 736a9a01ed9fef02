"""Django's own cost per request, in process: queries and CPU time.

For the earn request (POST /api/v1/purchases with a till token), /healthz and
the customer dashboard (logged in), N rounds (BENCH_REQUESTS, 200) of one
request of each kind in turn, through django.test.Client on PostgreSQL: the statements per request (as
Django's execute wrappers see them: BEGIN and COMMIT, which
CaptureQueriesContext and bench/run.py also count, are not among them) and the
median and p95 of this process's CPU time (time.process_time), which leaves out
PostgreSQL's work and is far less moved by other load on the machine than wall
time. The data has bench/run.py's shapes: members with cards, a till token, 50
customers with BENCH_HISTORY purchases each and three tiers.

`python bench/request_cpu.py` on its own database (BENCH_DATABASE_URL, default
postgres://postgres@127.0.0.1:5432/loyalty_bench_web, created and dropped), or
`python bench/run.py cpu`. BENCH_PROFILE=earn,dashboard (any of earn, healthz,
dashboard) prints the top cProfile entries (cumulative, in CPU time) and the SQL
of that request too; BENCH_PROFILE_OUT=<dir> keeps the profiles.
Each member's first purchase (it moves them into the first tier) is made
before the earn figures, which are those of a returning customer. Its
customers' phones and receipt ids are registry.numbers("cpu")'s.
"""

from __future__ import annotations

import os
import statistics
import sys
import time

from registry import numbers

N_REQUESTS = int(os.environ.get("BENCH_REQUESTS", "200"))
N_CUSTOMERS = int(os.environ.get("BENCH_CUSTOMERS", "50"))
WARMUP = int(os.environ.get("BENCH_REQUEST_WARMUP", "10"))
NUMBERS = numbers("cpu")


def _customers(store, n: int) -> list[str]:
    """Session keys of n logged-in customers with bench/run.py's dashboard
    shapes (a login, a year of purchases, tiers), under their own phones."""
    from run import customers_make

    sessions, _client = customers_make(store, n, NUMBERS)
    return sessions


def _measure(kinds: list[tuple[str, object, int]]) -> list[dict]:
    """kinds: (label, call, expected status); call(i) makes request i.

    The kinds take turns, one request each, so that a change in the machine's
    speed during the run (another process, the CPU's clock) moves every kind
    alike and their ratios stay comparable: timed one kind after the other,
    the earn's ratio to /healthz moved from 5.6 to 7.9 between runs of the
    same code."""
    from django.db import connection

    queries = {label: [] for label, _call, _expected in kinds}
    times = {label: [] for label, _call, _expected in kinds}
    current = [""]

    def count(execute, sql, params, many, context):
        queries[current[0]][-1] += 1
        return execute(sql, params, many, context)

    for i in range(WARMUP):  # imports, compiled templates, connection
        for label, call, expected in kinds:
            response = call(-1 - i)
            assert response.status_code == expected, (label, response.status_code)
    with connection.execute_wrapper(count):
        for i in range(N_REQUESTS):
            for label, call, expected in kinds:
                current[0] = label
                queries[label].append(0)
                t0 = time.process_time()
                response = call(i)
                times[label].append((time.process_time() - t0) * 1000)
                assert response.status_code == expected, (label, response.status_code)
    rows = []
    for label, call, _expected in kinds:
        if label.split()[0] in os.environ.get("BENCH_PROFILE", "").split(","):
            _profile(label, call)
        spent = sorted(times[label])
        rows.append(
            {
                "label": label,
                "queries": statistics.median(queries[label]),
                "queries_max": max(queries[label]),
                "median_ms": statistics.median(spent),
                "p95_ms": spent[int(0.95 * (len(spent) - 1))],
            }
        )
    return rows


def _profile(label: str, call) -> None:
    import cProfile
    import pstats

    from django.db import connection

    sql = []

    def log(execute, statement, params, many, context):
        sql.append(statement)
        return execute(statement, params, many, context)

    with connection.execute_wrapper(log):
        call(N_REQUESTS + 999)
    print(f"\nSQL of one {label}")
    for statement in sql:
        print(" ", statement[:160])
    # This process's CPU time, as measured above, not wall time spent waiting.
    profiler = cProfile.Profile(time.process_time)
    profiler.enable()
    for i in range(50):
        call(N_REQUESTS + 1000 + i)
    profiler.disable()
    print(f"\ncProfile of 50 × {label}")
    pstats.Stats(profiler).sort_stats("cumulative").print_stats(45)
    if os.environ.get("BENCH_PROFILE_OUT"):  # a directory: for pstats or snakeviz
        profiler.dump_stats(
            os.path.join(os.environ["BENCH_PROFILE_OUT"], label.split()[0] + ".prof")
        )


def measure(store, members) -> list[str]:
    """The collected static files must be there (the dashboard's {% static %}
    needs the production storage's manifest): main() and bench/run.py collect
    them."""
    from django.db import connection
    from django.test import Client, override_settings
    from django.urls import reverse

    from members.services import api_token_create
    from rewards.selectors.invariants import ledger_discrepancies

    _token, raw = api_token_create(store=store, name="cpu bench till")
    cards = [m.card_number for m in members]
    till = Client(HTTP_HOST="127.0.0.1", HTTP_AUTHORIZATION=f"Token {raw}")
    print(f"Request CPU: {N_CUSTOMERS} customers for the dashboard")
    sessions = _customers(store, N_CUSTOMERS)
    # One client, one session cookie per request: each test Client has its own
    # handler, which loads the middleware (WhiteNoise scans the static files)
    # on its first request; a gunicorn worker does that once.
    browser = Client(HTTP_HOST="127.0.0.1")

    def page(i: int):
        browser.cookies["sessionid"] = sessions[i % len(sessions)]
        return browser.get(dashboard)

    dashboard = reverse("portal:dashboard")
    run_id = time.time_ns()

    def earn(i: int):
        return till.post(
            "/api/v1/purchases",
            data={
                "card_number": cards[i % len(cards)],
                "receipt_id": NUMBERS.receipt(run_id, i),
                "total": "123.45",
            },
            content_type="application/json",
        )

    rest = {
        "DEFAULT_THROTTLE_RATES": {"api_token": "100000000/min"}  # no 429s here
    }
    from django.conf import settings

    with override_settings(REST_FRAMEWORK={**settings.REST_FRAMEWORK, **rest}):
        connection.close()  # as a gunicorn worker: one persistent connection
        # Every member's first purchase moves them into the first tier (three
        # more statements): made here, so that the earn figures are a regular
        # customer's, as most purchases are.
        for i in range(len(cards)):
            earn(-1000 - i)
        print(f"  {N_REQUESTS} requests each: earn, /healthz, dashboard, in turn")
        rows = _measure(
            [
                ("earn POST /api/v1/purchases", earn, 201),
                ("healthz GET /healthz", lambda i: till.get("/healthz"), 200),
                (f"dashboard GET {dashboard} (logged in)", page, 200),
            ]
        )
    exact = ledger_discrepancies() == []
    health = rows[1]["median_ms"]
    lines = [
        f"### Django cost per request, in process ({N_REQUESTS} requests each)",
        "",
        "| request | queries (BEGIN/COMMIT not counted) | CPU ms median | CPU ms p95 "
        "| median ratio to /healthz |",
        "|---|---|---|---|---|",
    ]
    for r in rows:
        q = f"{r['queries']:g}" + (
            f" (max {r['queries_max']})" if r["queries_max"] != r["queries"] else ""
        )
        lines.append(
            f"| {r['label']} | {q} | {r['median_ms']:.1f} | {r['p95_ms']:.1f} "
            f"| {r['median_ms'] / health:.1f} |"
        )
    lines += ["", f"balance == sum(entries) for every account afterwards: {exact}."]
    return lines


def main() -> None:
    os.environ.setdefault(
        "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/loyalty_bench_web"
    )
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import run  # bench/run.py: the database, settings and members

    run.configure()
    store, members = run.setup()
    try:
        from django.core.management import call_command

        call_command("collectstatic", interactive=False, verbosity=0)
        out = measure(store, members)
    finally:
        if os.environ.get("BENCH_KEEP") != "1":
            run.drop_database()
    print()
    print("\n".join(out))


if __name__ == "__main__":
    main()
