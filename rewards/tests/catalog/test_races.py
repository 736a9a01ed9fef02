"""Concurrent redemptions of one reward and concurrent uses of one voucher.

PostgreSQL only (row locks); threads start together on a barrier, each on its
own connection, as gunicorn workers or till retries would.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from members.errors import Conflict
from members.tests.factories import MemberFactory, StoreFactory
from rewards.models import LedgerEntry, LedgerKind, Reward, Voucher, VoucherStatus
from rewards.services import (
    points_adjust,
    reward_redeem,
    voucher_cancel,
    voucher_consume,
    voucher_expire_due,
)
from rewards.tests.factories import RewardFactory
from rewards.tests.ledger.test_races import THREADS, assert_ledger_exact, run_together

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def store(db):
    return StoreFactory(code="race", name="Race Street")


def _member_with(store, points: int):
    member = MemberFactory(store=store)
    points_adjust(member=member, points=points, reason="Opening", created_by=None)
    return member


# Issue 3: 30 customers redeem a reward with stock 10 at once. Each thread holds
# one PostgreSQL connection; with the test run's own, two xdist workers and the
# other race tests this stays well under the default max_connections of 100.
CUSTOMERS, STOCK = 30, 10


def test_30_customers_redeeming_a_reward_with_stock_10_get_exactly_10(store):
    members = [_member_with(store, 200) for _i in range(CUSTOMERS)]
    reward = RewardFactory(name="Tote bag", points_cost=150, stock=STOCK)

    results = run_together(
        CUSTOMERS,
        lambda i: reward_redeem(
            member=members[i], reward=reward, idempotency_key=f"race-{i}"
        ),
    )

    ok = [r for r in results if isinstance(r, tuple)]
    refused = [r for r in results if isinstance(r, Conflict)]
    assert len(ok) == STOCK, results
    assert len(refused) == CUSTOMERS - STOCK, results
    assert {r.message for r in refused} == {
        "“Tote bag” is out of stock: none are left."
    }
    reward.refresh_from_db()
    assert reward.stock == 0
    vouchers = Voucher.objects.filter(reward=reward)
    assert vouchers.count() == STOCK
    winners = {voucher.member_id for voucher, _replayed in ok}
    assert set(vouchers.values_list("member_id", flat=True)) == winners
    assert len(winners) == STOCK
    for m in members:
        expected = 50 if m.pk in winners else 200
        assert assert_ledger_exact(m) == expected


def test_one_member_redeeming_at_once_never_overdraws(store):
    member = _member_with(store, 500)
    reward = RewardFactory(points_cost=150, stock=None)

    results = run_together(
        THREADS,
        lambda i: reward_redeem(member=member, reward=reward, idempotency_key=f"m-{i}"),
    )

    ok = [r for r in results if isinstance(r, tuple)]
    assert len(ok) == 3, results
    assert assert_ledger_exact(member) == 50
    assert not LedgerEntry.objects.filter(balance_after__lt=0).exists()


def test_one_voucher_used_on_many_receipts_at_once_succeeds_once(store):
    member = _member_with(store, 200)
    voucher, _ = reward_redeem(
        member=member, reward=RewardFactory(), idempotency_key="v"
    )

    results = run_together(
        THREADS,
        lambda i: voucher_consume(code=voucher.code, store=store, receipt_id=f"R{i}"),
    )

    ok = [r for r in results if isinstance(r, tuple)]
    refused = [r for r in results if isinstance(r, Conflict)]
    assert len(ok) == 1, results
    assert len(refused) == THREADS - 1
    assert all("was already used on" in r.message for r in refused)
    voucher.refresh_from_db()
    assert voucher.status == VoucherStatus.USED


def test_cancel_and_expiry_racing_refund_once(store):
    member = _member_with(store, 200)
    reward = RewardFactory(
        refund_points_on_cancel=True, refund_points_on_expiry=True, stock=1
    )
    voucher, _ = reward_redeem(member=member, reward=reward, idempotency_key="v")
    later = timezone.now() + dt.timedelta(days=31)

    def work(i):
        if i % 2:
            return voucher_cancel(voucher=voucher, by=None)
        return voucher_expire_due(now=later)

    results = run_together(10, work)

    assert not [
        r for r in results if isinstance(r, Exception) and not isinstance(r, Conflict)
    ]
    assert LedgerEntry.objects.filter(kind=LedgerKind.REFUND).count() == 1
    assert assert_ledger_exact(member) == 200
    assert Reward.objects.get(pk=reward.pk).stock == 1
