"""Concurrent writers on one member: the row locks must keep the ledger exact.

Threads start together on a barrier and each uses its own database connection,
as gunicorn workers or till retries would. PostgreSQL only: SQLite serializes
all writers, so these would prove nothing there.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import Sum
from django.utils import translation

from members.errors import Conflict, InvalidInput
from members.tests.factories import MemberFactory, StoreFactory
from rewards.models import (
    LedgerEntry,
    PointsAccount,
    Purchase,
    PurchaseReturn,
    Redemption,
)
from rewards.selectors.program import program_settings_get
from rewards.services import (
    points_adjust,
    points_redeem,
    purchase_record,
    purchase_return_record,
)

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

THREADS = 20


def run_together(n: int, work: Callable[[int], object]) -> list[object]:
    """Run work(0..n-1) in n threads released at once; results or exceptions, in order."""
    barrier = threading.Barrier(n)
    results: list[object] = [None] * n

    def target(i: int) -> None:
        try:
            with translation.override("en"):
                barrier.wait(timeout=30)
                results[i] = work(i)
        except Exception as exc:  # noqa: BLE001 - the test inspects what each thread got
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=target, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads), "a thread is stuck (deadlock?)"
    return results


def assert_ledger_exact(member) -> int:
    account = PointsAccount.objects.get(member=member)
    total = LedgerEntry.objects.filter(account=account).aggregate(s=Sum("points"))["s"]
    assert account.balance == (total or 0)
    return account.balance


@pytest.fixture
def store(db):
    return StoreFactory(code="race", name="Race Street")


@pytest.fixture
def member(store):
    conf = program_settings_get()
    conf.points_per_unit, conf.min_purchase = Decimal("1"), Decimal("0")
    conf.save()
    return MemberFactory(store=store)


def test_concurrent_redemptions_never_overdraw(store, member):
    points_adjust(member=member, points=1000, reason="Opening", created_by=None)

    results = run_together(
        THREADS,
        lambda i: points_redeem(
            member=member, store=store, points=70, receipt_id=f"S{i}"
        ),
    )

    ok = [r for r in results if isinstance(r, tuple)]
    refused = [r for r in results if isinstance(r, Conflict)]
    assert len(ok) == 14, results
    assert len(refused) == THREADS - 14
    assert all(
        r.message.startswith("Not enough points: the balance is") for r in refused
    )
    assert sorted(r.balance_after for r, _replayed in ok) == list(range(20, 1000, 70))
    assert assert_ledger_exact(member) == 20
    assert Redemption.objects.filter(member=member).count() == 14
    assert not LedgerEntry.objects.filter(balance_after__lt=0).exists()


def test_concurrent_posts_of_one_receipt_earn_once(store, member):
    results = run_together(
        THREADS,
        lambda i: purchase_record(
            store=store, member=member, receipt_id="R-1", total="250.00"
        ),
    )

    assert all(isinstance(r, tuple) for r in results), results
    assert len({purchase.pk for purchase, _replayed in results}) == 1
    assert sorted(replayed for _purchase, replayed in results) == [False] + [True] * (
        THREADS - 1
    )
    assert Purchase.objects.count() == 1
    assert LedgerEntry.objects.count() == 1
    assert assert_ledger_exact(member) == 250


def test_concurrent_redemption_retries_spend_once(store, member):
    points_adjust(member=member, points=100, reason="Opening", created_by=None)

    results = run_together(
        THREADS,
        lambda i: points_redeem(
            member=member, store=store, points=60, receipt_id="S-1"
        ),
    )

    assert all(isinstance(r, tuple) for r in results), results
    assert len({redemption.pk for redemption, _replayed in results}) == 1
    assert assert_ledger_exact(member) == 40


def test_concurrent_returns_never_exceed_the_purchase(store, member):
    purchase, _ = purchase_record(
        store=store, member=member, receipt_id="R-1", total="100.00"
    )

    results = run_together(
        THREADS,
        lambda i: purchase_return_record(
            purchase=purchase, store=store, receipt_id=f"RET{i}", amount="7.00"
        ),
    )

    ok = [r for r in results if isinstance(r, tuple)]
    refused = [r for r in results if isinstance(r, InvalidInput)]
    assert (len(ok), len(refused)) == (14, 6), results
    purchase.refresh_from_db()
    assert purchase.returned_total == Decimal("98.00")
    reversed_ = PurchaseReturn.objects.filter(purchase=purchase).aggregate(
        s=Sum("points_reversed")
    )["s"]
    assert reversed_ == purchase.points_reversed == 98
    assert assert_ledger_exact(member) == 2


def test_concurrent_full_returns_claw_back_once(store, member):
    purchase, _ = purchase_record(
        store=store, member=member, receipt_id="R-1", total="100.00"
    )
    points_redeem(member=member, store=store, points=100, receipt_id="S-1")

    results = run_together(
        THREADS,
        lambda i: purchase_return_record(
            purchase=purchase, store=store, receipt_id=f"RET{i}", amount="100.00"
        ),
    )

    assert sum(isinstance(r, tuple) for r in results) == 1, results
    purchase.refresh_from_db()
    assert purchase.points_reversed == purchase.points_earned == 100
    # Spent, then returned: the member owes exactly what the purchase earned.
    assert assert_ledger_exact(member) == -100


def test_mixed_earning_and_spending_keep_the_ledger_exact(store, member):
    points_adjust(member=member, points=200, reason="Opening", created_by=None)

    def work(i: int):
        if i % 2:
            return purchase_record(
                store=store, member=member, receipt_id=f"R{i}", total="10.00"
            )
        return points_redeem(member=member, store=store, points=45, receipt_id=f"S{i}")

    results = run_together(THREADS, work)

    unexpected = [
        r for r in results if isinstance(r, Exception) and not isinstance(r, Conflict)
    ]
    assert not unexpected, unexpected
    spent = Redemption.objects.filter(member=member).count()
    assert spent >= 4  # 200 covers four of them whatever the order
    assert assert_ledger_exact(member) == 200 + 10 * 10 - 45 * spent
    assert not LedgerEntry.objects.filter(balance_after__lt=0).exists()
    # Each entry's balance_after is the running sum in commit order.
    running = 0
    for entry in LedgerEntry.objects.order_by("pk"):
        running += entry.points
        assert entry.balance_after == running
