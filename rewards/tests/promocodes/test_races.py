"""Concurrent purchases with one promo code: its limit holds exactly.

PostgreSQL only (row locks); threads start together on a barrier, each on its
own connection, as tills sending at the same moment would.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from members.errors import Conflict
from members.tests.factories import MemberFactory, StoreFactory
from rewards.models import LedgerEntry, LedgerKind, PromoCode, PromoCodeUse, Purchase
from rewards.selectors.invariants import ledger_invariant_violations
from rewards.selectors.program import program_settings_get
from rewards.services import purchase_record, purchase_return_record
from rewards.tests.factories import PromoCodeFactory
from rewards.tests.ledger.test_races import assert_ledger_exact, run_together

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

PURCHASES, LIMIT = 50, 10


@pytest.fixture
def store(db):
    conf = program_settings_get()
    conf.points_per_unit, conf.min_purchase = Decimal("1"), Decimal("0")
    conf.pending_days = 0
    conf.save()
    return StoreFactory(code="race", name="Race Street")


def test_50_concurrent_purchases_with_a_code_limited_to_10_use_it_exactly_10_times(
    store,
):
    promo = PromoCodeFactory(code="SPRING25", points=100, max_uses=LIMIT)
    # Half the purchases by the same few members, so their accounts queue too.
    members = [MemberFactory(store=store) for _i in range(PURCHASES // 2)]

    results = run_together(
        PURCHASES,
        lambda i: purchase_record(
            store=store,
            member=members[i % len(members)],
            receipt_id=f"R-{i}",
            total="50.00",
            promo_code="spring25",
        ),
    )

    ok = [r for r in results if isinstance(r, tuple)]
    refused = [r for r in results if isinstance(r, Conflict)]
    assert len(ok) == LIMIT, results
    assert len(refused) == PURCHASES - LIMIT, results
    assert {(r.field, r.extra["reason"]) for r in refused} == {
        ("promo_code", "limit_reached")
    }
    promo.refresh_from_db()
    assert promo.uses_count == LIMIT
    assert PromoCodeUse.objects.count() == LIMIT
    assert Purchase.objects.count() == LIMIT  # a refused code refuses its purchase
    assert LedgerEntry.objects.filter(kind=LedgerKind.BONUS).count() == LIMIT
    for m in members:
        bought = Purchase.objects.filter(member=m).count()
        assert assert_ledger_exact(m) == bought * 150
    assert ledger_invariant_violations() == []


def test_a_whole_return_racing_new_purchases_frees_exactly_one_place(store):
    promo = PromoCodeFactory(code="ONE", points=10, max_uses=1)
    first = MemberFactory(store=store)
    purchase, _ = purchase_record(
        store=store, member=first, receipt_id="R-0", total="20.00", promo_code="ONE"
    )
    others = [MemberFactory(store=store) for _i in range(8)]

    def work(i: int):
        if i == 0:
            return purchase_return_record(
                purchase=purchase, store=store, receipt_id="RT-0", amount="20.00"
            )
        return purchase_record(
            store=store,
            member=others[i - 1],
            receipt_id=f"R-{i}",
            total="20.00",
            promo_code="ONE",
        )

    run_together(9, work)

    promo = PromoCode.objects.get(pk=promo.pk)
    live = PromoCodeUse.objects.filter(reversed_at__isnull=True).count()
    assert promo.uses_count == live <= 1
    assert assert_ledger_exact(first) == 0
    assert ledger_invariant_violations() == []
