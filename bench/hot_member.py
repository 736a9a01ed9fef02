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
"""

from __future__ import annotations

import multiprocessing as mp
import os
import time
from collections import Counter
from decimal import Decimal

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


def run_writers(*, member_ids: list[int], store_id: int, tag: str) -> dict:
    """WRITERS processes; writer i works on member_ids[i % len(member_ids)]."""
    from django.db import connection

    ctx = mp.get_context("fork")
    barrier = ctx.Barrier(WRITERS + 1)
    results = ctx.Queue()
    before = _deadlocks()
    connection.close()
    procs = [
        ctx.Process(
            target=_writer,
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


def main(*, store) -> tuple[list[tuple[dict, dict]], bool]:
    """REPEAT pairs of (hot, baseline) runs; and whether the ledger is exact."""
    from members.services import member_enroll
    from rewards.selectors.invariants import ledger_discrepancies
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
    pairs = []
    for r in range(REPEAT):
        runs = {}
        for side in ("hot", "spread") if r % 2 == 0 else ("spread", "hot"):
            ids = [members[0].pk] if side == "hot" else [m.pk for m in members[1:]]
            runs[side] = run_writers(
                member_ids=ids, store_id=store.pk, tag=f"{side}{r}"
            )
        pairs.append((runs["hot"], runs["spread"]))
    exact = ledger_discrepancies() == []
    return pairs, exact
