"""Every benchmark at a tiny size, so that none stops working unseen.

`make bench` once stopped after four benchmarks on a unique violation (benchmark
5 enrolled its members with the phones benchmark 3 had given its customers) and
benchmark 6 failed on returns with three decimals; nobody ran them in between.
Here one `bench/run.py --tiny` runs every benchmark of bench/registry.py's list
(a benchmark added there is covered without a change here) on copies of this
run's test database, and each benchmark's outcome is a test of its own. The
figures of such a run mean nothing; they go to a temporary file, never to
docs/BENCHMARKS.md or docs/benchmarks.json.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent
BENCH = ROOT / "bench"
sys.path.insert(0, str(BENCH))
import registry  # noqa: E402 - bench/registry.py, no Django
import run as bench_run  # noqa: E402 - bench/run.py: its import does nothing

ON_POSTGRES = os.environ.get("DATABASE_URL", "").startswith(("postgres", "pgsql"))
needs_postgres = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        not ON_POSTGRES,
        reason="the benchmarks run on PostgreSQL only (raw psycopg, COPY, "
        "pg_stat_database): set DATABASE_URL to a PostgreSQL server",
    ),
    # One run for the whole module: every test on the same xdist worker.
    pytest.mark.xdist_group("bench_smoke"),
    # So that pytest-django makes the test database the run copies.
    pytest.mark.django_db,
]
DOCS = [ROOT / "docs" / "BENCHMARKS.md", ROOT / "docs" / "benchmarks.json"]
TIMEOUT = 900  # seconds; the run takes well under a minute on a quiet machine


def _digest(path: Path) -> str | None:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else None


@pytest.fixture(scope="session")
def bench_results(django_db_setup, django_db_blocker, tmp_path_factory, worker_id):
    """bench/run.py --tiny over every benchmark: {name: outcome}, the docs'
    digests before and after, and what the run printed. Once per test run:
    xdist has been seen to hand some of these tests to another worker despite
    their group, and the run takes a minute, so the first worker to get here
    runs it and leaves its outcome for the others (xdist's recipe for a
    session fixture that runs once, with a lock file)."""
    shared = tmp_path_factory.getbasetemp()
    if worker_id != "master":
        shared = shared.parent  # every worker's base directory is below it
    kept = shared / "bench_smoke.json"
    with open(shared / "bench_smoke.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not kept.exists():
            kept.write_text(json.dumps(_bench_run(django_db_blocker, tmp_path_factory)))
        return json.loads(kept.read_text())


def _bench_run(django_db_blocker, tmp_path_factory) -> dict:
    from django.db import connection, connections

    db = connection.settings_dict
    template = db["NAME"]
    with django_db_blocker.unblock():
        connections.close_all()  # a template must have no one connected
    auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    url = f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}"
    out = tmp_path_factory.mktemp("bench") / "figures.json"
    env = {
        **os.environ,
        "BENCH_DATABASE_URL": f"{url}/{template}_bench",
        "BENCH_TEMPLATE_DB": template,
        "BENCH_REDIS_URL": os.environ.get(
            "BENCH_SMOKE_REDIS_URL", "redis://127.0.0.1:6379/14"
        ),
        "PYTHONUNBUFFERED": "1",
    }
    for name in ("BENCH_KEEP", "BENCH_ANALYTICS_DATABASE_URL"):
        env.pop(name, None)  # the databases are this run's, and dropped
    before = {p.name: _digest(p) for p in DOCS}
    proc = subprocess.Popen(  # noqa: S603 - our own script, this interpreter
        [sys.executable, str(BENCH / "run.py"), "--tiny", "--json", str(out)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # its gunicorn and Celery workers with it
    )
    try:
        printed, _ = proc.communicate(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        printed, _ = proc.communicate()
        pytest.fail(f"bench/run.py --tiny took over {TIMEOUT} s:\n{printed[-5000:]}")
    results = (
        {r["name"]: r for r in json.loads(out.read_text())["benchmarks"]}
        if out.exists()
        else {}
    )
    return {
        "results": results,
        "printed": printed,
        "returncode": proc.returncode,
        "docs": (before, {p.name: _digest(p) for p in DOCS}),
    }


def _on_postgres(test):
    for mark in reversed(needs_postgres):
        test = mark(test)
    return test


@_on_postgres
@pytest.mark.parametrize("name", registry.names())
def test_benchmark_completes_with_figures(bench_results, name):
    result = bench_results["results"].get(name)
    assert result is not None, (
        f"bench/run.py --tiny did not get to {name}:\n"
        + bench_results["printed"][-5000:]
    )
    assert result["ok"], f"benchmark {name} failed:\n{result['error']}"
    # A Markdown table: its header and at least one row of figures.
    rows = [line for line in result["lines"] if re.match(r"\| [^-|]", line)]
    assert len(rows) >= 2, result["lines"]


@_on_postgres
def test_every_benchmark_runs_in_a_started_process(bench_results):
    """bench/run.py calls loyalty_site.process.process_started after its
    set-up, as a worker does once started: the figures are a worker's."""
    frozen = {name: r["gc_frozen"] for name, r in bench_results["results"].items()}
    assert set(frozen) == set(registry.names())
    assert all(count > 10_000 for count in frozen.values()), frozen


@_on_postgres
def test_run_exits_zero_and_leaves_the_docs_alone(bench_results):
    before, after = bench_results["docs"]
    assert after == before, "a benchmark run wrote to docs/"
    assert bench_results["returncode"] == 0, bench_results["printed"][-5000:]


def test_registry_and_run_agree():
    assert bench_run.BENCHMARKS is registry.BENCHMARKS
    assert sorted(bench_run.RUNNERS) == sorted(registry.names())
    numbers = [b.number for b in registry.BENCHMARKS]
    assert len(set(numbers)) == len(numbers)


def test_no_two_users_of_numbers_share_a_slot():
    slots = registry.slots()
    assert len(set(slots.values())) == len(slots), slots
    assert all(0 <= s <= 9 for s in slots.values()), slots
    made = {
        name: registry.numbers(name)
        for name in slots  # every benchmark, the shared members, chaos
    }
    for kind in ("phone", "card", "email", "referral_code", "receipt"):
        seen: dict[str, str] = {}
        for name, nums in made.items():
            for i in (0, 1, 99_999, registry.PER_SLOT - 1):
                value = getattr(nums, kind)(i)
                assert value not in seen, (kind, value, name, seen.get(value))
                seen[value] = name
    prefixes = [n.receipt_prefix for n in made.values()]
    assert not any(a != b and a.startswith(b) for a in prefixes for b in prefixes), (
        prefixes
    )


def test_numbers_are_valid_where_the_portal_checks_them():
    from members.cards import card_number_is_valid
    from members.phones import phone_normalize

    for name in registry.slots():
        nums = registry.numbers(name)
        for i in (0, 7, registry.PER_SLOT - 1):
            assert phone_normalize(nums.phone(i)) == nums.phone(i)
            assert phone_normalize(nums.phone_typed(i)) == nums.phone(i)
            assert card_number_is_valid(nums.card(i)), nums.card(i)
            assert len(nums.referral_code(i)) <= 12
        with pytest.raises(ValueError, match="at most 1000000 members"):
            nums.phone(registry.PER_SLOT)


def test_no_benchmark_makes_its_own_numbers():
    """Phones, cards and receipt ids come from registry.numbers only: a literal
    one in a bench module is how benchmarks 3 and 5 came to collide."""
    literal = re.compile(
        r"""(["']\+380|phone=f["']|card_number=f["']|receipt_id=f["']"""
        r"""|referral_code=f["']|username=f["'])"""
    )
    offenders = [
        f"{path.name}:{n}: {line.strip()}"
        for path in sorted(BENCH.glob("*.py"))
        if path.name != "registry.py"
        for n, line in enumerate(path.read_text().splitlines(), start=1)
        if literal.search(line)
    ]
    assert offenders == []
