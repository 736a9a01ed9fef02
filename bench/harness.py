"""What every benchmark of run.py shares: the database it makes and drops, the
Django set-up, the members enrolled once and the Context (static files, wrk,
one gunicorn)."""

from __future__ import annotations

import os
import sys
from contextlib import ExitStack
from pathlib import Path

from registry import SHARED, TINY, numbers  # bench/

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/loyalty_bench"
STATIC_FILE = "/static/js/referral.js"
REDIS_URL_DEFAULT = "redis://127.0.0.1:6379/5"


# A purchase written raw, in the service's shape: ONE statement that takes the
# account's lock in its UPDATE and inserts the purchase, the entry and its lot
# from it (rewards.ledger_rows.entry_write_guarded), the entry's time read from
# the clock once the lock is held. Benchmark 1's raw baseline and benchmark 4's
# floor; %(name)s parameters: account, store, receipt, member, points, total.
RAW_EARN = (
    "WITH a AS (UPDATE rewards_pointsaccount SET balance = balance + %(points)s,"
    " updated_at = now() WHERE id = %(account)s RETURNING id, balance),"
    " p AS (INSERT INTO rewards_purchase (store_id, receipt_id, member_id, total,"
    " occurred_at, points_earned, points_per_unit, min_purchase, balance_after,"
    " returned_total, points_reversed, source, fingerprint, created_at,"
    " points_exact, eligible_total, tier_multiplier, membership_multiplier)"
    " SELECT %(store)s, %(receipt)s, %(member)s, %(total)s, now(), %(points)s, 1, 0,"
    " a.balance, 0, 0, 'api', 'raw', now(), %(total)s, %(total)s, 1, 1 FROM a"
    " RETURNING id),"
    " e AS (INSERT INTO rewards_ledgerentry (account_id, kind, points,"
    " balance_after, reason, reason_code, reason_params, purchase_id, created_at,"
    " breakdown) SELECT a.id, 'earn', %(points)s, a.balance, 'raw', 'purchase_earn',"
    " '{}', p.id, clock_timestamp(), '[]' FROM a, p RETURNING id, created_at)"
    " INSERT INTO rewards_pointslot (account_id, entry_id, points, remaining,"
    " earned_at, available_at) SELECT a.id, e.id, %(points)s, %(points)s,"
    " e.created_at, e.created_at FROM a, e"
)


def env_int(name: str, default: int) -> int:
    """A size from the environment, read when it is used (--tiny sets them)."""
    return int(os.environ.get(name, default))


def database_url() -> str:
    return os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)


def configure(*, tiny: bool = False) -> None:
    """Point this process, and the gunicorn and Celery processes it starts, at
    the bench database and broker; before Django is set up."""
    if tiny:
        os.environ.update(TINY)
        # collectstatic without compressing every file (12 s): plain copies in
        # a folder of their own, which a second run only checks.
        os.environ["STATICFILES_BACKEND"] = (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
        os.environ["STATIC_ROOT"] = str(ROOT / "var" / "bench-static-tiny")
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    os.environ["DATABASE_URL"] = database_url()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "loyalty_site.settings")
    # The same key in gunicorn (bench/web_load.py inherits it): the customers'
    # sessions made here must be valid there.
    os.environ.setdefault("SECRET_KEY", "bench-only-" + "k" * 50)
    os.environ.setdefault("LANGUAGE_CODE", "en")
    # Production's cache (operations.md): Redis, in this process and the servers
    # it starts. The default database cache would add queries to every request
    # that a throttle counts.
    os.environ.setdefault(
        "CACHE_URL", os.environ.get("BENCH_CACHE_URL", "redis://127.0.0.1:6379/6")
    )
    # As in the gunicorn it starts (bench/web_load.py): the benchmarks' own
    # requests in this process (bench/request_cpu.py's earn, bench 2's query
    # count) are not the rate limit's to refuse.
    os.environ.setdefault("API_RATE", "100000000/min")
    # The campaign fan-out's broker, for this process and its Celery workers.
    os.environ["CELERY_BROKER_URL"] = os.environ.get(
        "BENCH_REDIS_URL", REDIS_URL_DEFAULT
    )


def ensure_database(url: str | None = None) -> None:
    """Create the database when it is missing: empty, or a copy of the migrated
    database BENCH_TEMPLATE_DB names (the smoke tests pass their test
    database: a copy takes a second, migrating a new one many)."""
    import psycopg

    base, name = (url or database_url()).rsplit("/", 1)
    template = os.environ.get("BENCH_TEMPLATE_DB")
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        if conn.execute(
            "SELECT 1 FROM pg_database WHERE datname=%s", (name,)
        ).fetchone():
            return
        if template:
            try:
                conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
                return
            except psycopg.errors.ObjectInUse:  # someone is connected to it
                print(f"{template} is in use; migrating {name} from scratch.")
        conn.execute(f'CREATE DATABASE "{name}"')


def drop_database(url: str | None = None) -> None:
    import psycopg
    from django.conf import settings

    if settings.configured:  # this process's connections, if they are there
        from django.db import connections

        connections.close_all()
    base, name = (url or database_url()).rsplit("/", 1)
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
    # Empty, as a kept database (BENCH_KEEP=1) may not be. flush keeps the
    # table of applied migrations, so a migrate after it would change nothing.
    call_command("flush", interactive=False, verbosity=0)
    # The cache too: a new database numbers its tokens and members from 1 again,
    # and an earlier run's rate-limit counters, token generation and dashboard
    # panels under those keys would otherwise count here (a second `bench/run.py
    # api` within the minute was refused with 429).
    from django.core.cache import cache

    cache.clear()

    from members.models import Store
    from members.services import member_enroll

    store = Store.objects.create(code="bench", name="Bench")
    n = env_int("BENCH_MEMBERS", 200)
    shared = numbers(SHARED)
    print(f"Enrolling {n} members...")
    members = []
    for i in range(n):
        members.append(member_enroll(phone=shared.phone(i), store=store))
        progress("members", i + 1, n)
    return store, members


class Context:
    """What the benchmarks of one run share: the store, the members, the
    collected static files, wrk and one gunicorn (started when first needed,
    stopped at the end of the run)."""

    def __init__(self, store, members, stack: ExitStack) -> None:
        self.store, self.members, self._stack = store, members, stack
        self._static = False
        self._wrk: str | None = None
        self._server = None

    def static(self) -> None:
        if not self._static:
            from django.core.management import call_command

            call_command("collectstatic", interactive=False, verbosity=0)
            self._static = True

    def wrk(self) -> str:
        import web_load

        if self._wrk is None:
            self._wrk = web_load.wrk_ensure()
        return self._wrk

    def server(self):
        import web_load

        if self._server is None:
            self.static()
            self._server = self._stack.enter_context(web_load.Gunicorn(database_url()))
        return self._server
