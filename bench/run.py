"""Benchmarks. `make bench` runs them; figures are pasted into docs/BENCHMARKS.md.

1. Ledger earn: purchases per second through rewards.services.purchase_record on
   PostgreSQL, against the same SQL statements issued raw through psycopg in one
   transaction each (the floor the ORM and the service could reach).
7. Bulk CSV import (bench/imports.py): rows per second through import_members and
   import_purchases, against the same rows inserted with bulk_create.

Needs PostgreSQL: BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/loyalty_bench);
the database is created if missing and its tables are flushed.
"""

from __future__ import annotations

import os
import platform
import sys
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
URL = os.environ.get(
    "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/loyalty_bench"
)
os.environ["DATABASE_URL"] = URL
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "loyalty_site.settings")
N_MEMBERS = int(os.environ.get("BENCH_MEMBERS", "200"))
N_OPS = int(os.environ.get("BENCH_OPS", "3000"))


def ensure_database() -> bool:
    """Create the bench database if missing; True if this run created it."""
    import psycopg

    base, name = URL.rsplit("/", 1)
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        if not conn.execute(
            "SELECT 1 FROM pg_database WHERE datname=%s", (name,)
        ).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
            return True
    return False


def drop_database() -> None:
    import psycopg

    base, name = URL.rsplit("/", 1)
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')


def progress(label: str, done: int, total: int) -> None:
    if done % max(1, total // 10) == 0 or done == total:
        print(
            f"\r  {label}: {done}/{total}", end="" if done < total else "\n", flush=True
        )


def main() -> None:
    created = ensure_database()
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    call_command("flush", interactive=False, verbosity=0)
    call_command("migrate", verbosity=0)  # the data migrations' rows again

    from members.models import Store
    from members.services import member_enroll
    from rewards.models import Purchase
    from rewards.selectors import ledger_discrepancies
    from rewards.services import purchase_record

    store = Store.objects.create(code="bench", name="Bench")
    print(f"Enrolling {N_MEMBERS} members...")
    members = []
    for i in range(N_MEMBERS):
        members.append(member_enroll(phone=f"+38067{i:07d}", store=store))
        progress("members", i + 1, N_MEMBERS)

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

    # The same statements raw: lock the account, look for the receipt, insert the
    # purchase, move the balance, append the entry; one transaction each.
    import psycopg

    account_ids = {m.pk: m.account.pk for m in members}
    connection.close()
    print(f"   raw psycopg: {N_OPS} purchases")
    with psycopg.connect(URL) as conn:
        t0 = time.perf_counter()
        for i in range(N_OPS):
            member_id = members[i % N_MEMBERS].pk
            with conn.transaction():
                conn.execute(
                    "SELECT id, balance FROM rewards_pointsaccount WHERE member_id=%s FOR UPDATE",
                    (member_id,),
                ).fetchone()
                conn.execute(
                    "SELECT id FROM rewards_purchase WHERE store_id=%s AND receipt_id=%s",
                    (store.pk, f"raw-{i}"),
                ).fetchone()
                conn.execute(
                    "SELECT id, points_per_unit FROM rewards_programsettings WHERE id=1"
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
                conn.execute(
                    "INSERT INTO rewards_ledgerentry (account_id, kind, points, balance_after, reason,"
                    " purchase_id, created_at, breakdown)"
                    " VALUES (%s,'earn',123,0,'raw',%s,now(),'[]')",
                    (account_ids[member_id], pid),
                )
            progress("raw", i + 1, N_OPS)
        raw_s = time.perf_counter() - t0

    svc_rate, raw_rate = N_OPS / service_s, N_OPS / raw_s
    print()
    print(
        f"Machine: {platform.node()} · {os.cpu_count()} cores · Python {platform.python_version()}"
    )
    print("| benchmark | ops | seconds | ops/s | ratio to baseline |")
    print("|---|---|---|---|---|")
    print(
        f"| earn via purchase_record (Django ORM) | {N_OPS} | {service_s:.2f} | {svc_rate:.0f} | {svc_rate / raw_rate:.2f} |"
    )
    print(
        f"| same SQL via raw psycopg (baseline) | {N_OPS} | {raw_s:.2f} | {raw_rate:.0f} | 1.00 |"
    )
    bench_imports_run(created)


def bench_imports_run(created: bool) -> None:
    from django.core.management import call_command
    from django.db import connection

    import_rows = []
    if os.environ.get("BENCH_IMPORT", "1") != "0":
        call_command("flush", interactive=False, verbosity=0)
        call_command("migrate", verbosity=0)
        from bench.imports import run as imports_run

        import_rows = imports_run()
    connection.close()
    if created:  # a database this run made is not left behind
        drop_database()
    if import_rows:
        print()
        print("| benchmark | rows | seconds | rows/s | ratio to baseline |")
        print("|---|---|---|---|---|")
        print("\n".join(import_rows))


if __name__ == "__main__":
    main()
