"""Benchmark 4: one hot member, 32 writers at once, on PostgreSQL.

32 processes (not threads: no shared GIL, each with its own connection, as 32
gunicorn workers or Celery workers would be) start together on a barrier and
each make HOT_OPS writes, alternating an earn (`purchase_record`) and a points
redemption (`points_redeem`), all on ONE member. The baseline, in the same run,
is the same 32 processes on 32 different members, so that no row lock is shared.

One pair of runs lasts a few seconds, and its ratio moved from 0.49 to 1.04
between runs of the same code on a machine shared with others: the pair is run
HOT_REPEAT times, back to back, in turn hot first and baseline first (so that a
drift of the machine's load favours neither side), and the median of the pairs'
ratios is the figure.

Reported: operations per second of each run, the ratio of each pair, their
median, errors by type, the deadlocks PostgreSQL counted for the database
(pg_stat_database.deadlocks, before and after), and whether every balance
equals the sum of its entries.

PostgreSQL's own floor, in the same run: the same pairs with the writes sent
raw (psycopg, no Django, nothing computed in Python), in the service's shapes
on the same tables: an earn is one statement that takes the account's lock
in its UPDATE and inserts the purchase, entry and lot from it (as
rewards.ledger_rows.entry_write_guarded does, the entry's time read from the
clock once the lock is held); a redemption is the service's
lock statement (rewards.locks.account_lock_with_receipt_sql), then one
statement that moves the balance, inserts the redemption and its entry and
draws on the first spendable lot that covers it (the service's statement
looks at the first eight). Each is a transaction with its durable commit. On
one member every writer waits for the one before it to commit; on 32 they
commit together. The raw ratio is how far the service's ratio can go while a
purchase is its own durable transaction on one row.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import time
from collections import Counter
from decimal import Decimal

from harness import RAW_EARN
from registry import numbers

WRITERS = int(os.environ.get("BENCH_HOT_WRITERS", "32"))
OPS = int(os.environ.get("BENCH_HOT_OPS", "16"))  # per writer and run
REPEAT = int(os.environ.get("BENCH_HOT_REPEAT", "5"))  # pairs of runs


def _deadlocks() -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()"
        )
        return cursor.fetchone()[0]


def _writer(
    index: int, member_id: int, store_id: int, tag: str, barrier, results
) -> None:
    from django.db import connection

    from members.models import Member, Store
    from rewards.services import points_redeem, purchase_record

    connection.close()  # never share the parent's socket
    member = Member.objects.select_related("account").get(pk=member_id)
    store = Store.objects.get(pk=store_id)
    errors: Counter[str] = Counter()
    ok = 0
    barrier.wait(timeout=60)
    t0 = time.perf_counter()
    for k in range(OPS):
        receipt = numbers("hot").receipt(tag, index, k)
        try:
            if k % 2 == 0:
                purchase_record(
                    store=store, member=member, receipt_id=receipt, total=Decimal("20")
                )
            else:
                points_redeem(member=member, store=store, points=10, receipt_id=receipt)
            ok += 1
        except Exception as exc:  # noqa: BLE001 - the bench reports every kind
            errors[type(exc).__name__] += 1
    results.put((ok, dict(errors), time.perf_counter() - t0))
    connection.close()


# The raw writes (see the module's docstring); %(name)s parameters.
RAW_REDEEM = (
    "WITH l AS (SELECT id FROM rewards_pointslot WHERE account_id = %(account)s"
    " AND remaining >= 10 AND available_at <= now()"
    " ORDER BY expires_at ASC NULLS LAST, earned_at, id LIMIT 1),"
    " a AS (UPDATE rewards_pointsaccount SET balance = balance - 10,"
    " updated_at = now() WHERE id = %(account)s AND EXISTS (SELECT 1 FROM l)"
    " RETURNING id, balance),"
    " r AS (INSERT INTO rewards_redemption (receipt_id, points, discount,"
    " balance_after, fingerprint, created_at, member_id, store_id)"
    " SELECT %(receipt)s, 10, 1, a.balance, 'raw', now(), %(member)s, %(store)s"
    " FROM a RETURNING id),"
    " e AS (INSERT INTO rewards_ledgerentry (account_id, kind, points,"
    " balance_after, reason, reason_code, reason_params, redemption_id, created_at,"
    " breakdown) SELECT a.id, 'redeem', -10, a.balance, 'raw',"
    " 'redemption_discount', '{}', r.id, clock_timestamp(), '[]' FROM a, r"
    " RETURNING id),"
    " u AS (UPDATE rewards_pointslot SET remaining = remaining - 10 FROM l, e"
    " WHERE rewards_pointslot.id = l.id)"
    " INSERT INTO rewards_lotdraw (entry_id, lot_id, points)"
    " SELECT e.id, l.id, 10 FROM e, l RETURNING id"
)


def _raw_writer(
    index: int, member_id: int, store_id: int, tag: str, barrier, results
) -> None:
    """_writer's work, sent raw: the floor of the same writes."""
    import psycopg
    from django.db import connection
    from harness import database_url

    from rewards.locks import account_lock_with_receipt_sql
    from rewards.models import PointsAccount, Redemption

    connection.close()  # never share the parent's socket
    account_id = PointsAccount.objects.get(member_id=member_id).pk
    connection.close()
    lock = account_lock_with_receipt_sql("postgresql", Redemption)
    errors: Counter[str] = Counter()
    ok = 0
    with psycopg.connect(database_url()) as conn:
        barrier.wait(timeout=60)
        t0 = time.perf_counter()
        for k in range(OPS):
            values = {
                "account": account_id,
                "member": member_id,
                "store": store_id,
                "receipt": numbers("hot").receipt(tag, index, k),
                "points": 20,
                "total": 20,
            }
            try:
                with conn.transaction():
                    if k % 2 == 0:
                        conn.execute(RAW_EARN, values)
                    else:
                        conn.execute(lock, (store_id, values["receipt"], member_id))
                        if conn.execute(RAW_REDEEM, values).fetchone() is None:
                            raise ValueError("no lot covers the redemption")
                ok += 1
            except Exception as exc:  # noqa: BLE001 - the bench reports every kind
                errors[type(exc).__name__] += 1
        results.put((ok, dict(errors), time.perf_counter() - t0))


def run_writers(
    *, member_ids: list[int], store_id: int, tag: str, raw: bool = False
) -> dict:
    """WRITERS processes; writer i works on member_ids[i % len(member_ids)]
    (`raw`: the raw writes of _raw_writer)."""
    from django.db import connection

    ctx = mp.get_context("fork")
    barrier = ctx.Barrier(WRITERS + 1)
    results = ctx.Queue()
    before = _deadlocks()
    connection.close()
    procs = [
        ctx.Process(
            target=_raw_writer if raw else _writer,
            args=(i, member_ids[i % len(member_ids)], store_id, tag, barrier, results),
        )
        for i in range(WRITERS)
    ]
    for p in procs:
        p.start()
    barrier.wait(timeout=120)
    t0 = time.perf_counter()
    got = [results.get(timeout=600) for _ in procs]
    wall = time.perf_counter() - t0
    for p in procs:
        p.join(timeout=60)
    ok = sum(g[0] for g in got)
    errors: Counter[str] = Counter()
    for g in got:
        errors.update(g[1])
    return {
        "ops": ok,
        "errors": dict(errors),
        "seconds": wall,
        "ops_per_s": ok / wall,
        "deadlocks": _deadlocks() - before,
    }


def main(*, store) -> tuple[list[tuple[dict, dict]], list[tuple[dict, dict]], bool]:
    """REPEAT pairs of (hot, baseline) runs through the services, then as many
    raw; and whether the ledger is exact: every check verify_ledger makes
    (a balance the sum of its entries, each entry's balance the running sum
    in time order, the lots)."""
    from members.services import member_enroll
    from rewards.selectors.invariants import ledger_invariant_violations
    from rewards.services import points_adjust

    nums = numbers("hot")
    members = [
        member_enroll(phone=nums.phone(i), store=store) for i in range(WRITERS + 1)
    ]
    for m in members:
        # Enough for every redemption of every run even if all earns came last.
        points_adjust(
            member=m,
            points=10 * OPS * WRITERS * REPEAT,
            reason="bench",
            created_by=None,
        )
    by_kind = {}
    for kind in ("service", "raw"):
        pairs = by_kind[kind] = []
        for r in range(REPEAT):
            runs = {}
            for side in ("hot", "spread") if r % 2 == 0 else ("spread", "hot"):
                ids = [members[0].pk] if side == "hot" else [m.pk for m in members[1:]]
                runs[side] = run_writers(
                    member_ids=ids,
                    store_id=store.pk,
                    tag=f"{kind}{side}{r}",
                    raw=kind == "raw",
                )
            pairs.append((runs["hot"], runs["spread"]))
    exact = ledger_invariant_violations() == []
    return by_kind["service"], by_kind["raw"], exact
