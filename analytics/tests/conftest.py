"""A small hand-made history for the analytics tests.

Months are counted back from the current one: M1 is last month (the period
under test), M2 the month before (the previous period), M3 the one before that.

    member  enrolled      purchases (store, total)                 other
    A       M3 day 5  S1  M3-10 100, M2-10 200, M1-10 100, M1-20 300  M1-21 redeems 50;
                                                                    M1-25 returns 100 of M1-20
    B       M2 day 3  S1  M2-12 150 (S1)
    C       M1 day 2  S2  M1-5 80 (S2)
    D       M1 day 20 S2  —
    points: +20 adjusted by hand on M1-15 (A); store sales entered for M1: 1920;
    marketing spend: M1 1000, M2 300.
"""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.utils import timezone

from analytics.models import MarketingSpend, StoreSales
from analytics.selectors.periods import month_add
from members.tests.factories import MemberFactory
from rewards.models import Purchase
from rewards.services import (
    points_adjust,
    points_redeem,
    purchase_record,
    purchase_return_record,
)


def at(month: dt.date, day: int, hour: int = 12) -> dt.datetime:
    return dt.datetime.combine(
        month.replace(day=day), dt.time(hour), tzinfo=timezone.get_current_timezone()
    )


@dataclass
class History:
    m1: dt.date
    m2: dt.date
    m3: dt.date
    s1: object
    s2: object
    a: object
    b: object
    c: object
    d: object


_receipts = iter(range(1, 10**6))


def buy(member, store, when, total) -> Purchase:
    purchase, _ = purchase_record(
        store=store,
        member=member,
        receipt_id=f"T{next(_receipts)}",
        total=Decimal(total),
        occurred_at=when,
        recorded_at=when,
    )
    return purchase


@pytest.fixture
def history(db, store, other_store) -> History:
    this = timezone.localdate().replace(day=1)
    m1, m2, m3 = month_add(this, -1), month_add(this, -2), month_add(this, -3)
    a = MemberFactory(store=store, enrolled_at=at(m3, 5))
    b = MemberFactory(store=store, enrolled_at=at(m2, 3))
    c = MemberFactory(store=other_store, enrolled_at=at(m1, 2))
    d = MemberFactory(store=other_store, enrolled_at=at(m1, 20))
    buy(a, store, at(m3, 10), "100")
    buy(a, store, at(m2, 10), "200")
    buy(b, store, at(m2, 12), "150")
    buy(c, other_store, at(m1, 5), "80")
    buy(a, store, at(m1, 10), "100")
    points_adjust(
        member=a, points=20, reason="goodwill", created_by=None, recorded_at=at(m1, 15)
    )
    big = buy(a, store, at(m1, 20), "300")
    points_redeem(
        member=a, store=store, points=50, receipt_id="RED1", recorded_at=at(m1, 21)
    )
    purchase_return_record(
        purchase=big,
        store=store,
        receipt_id="RET1",
        amount=Decimal("100"),
        recorded_at=at(m1, 25),
    )
    StoreSales.objects.create(
        store=store, day=m1.replace(day=10), total=Decimal("1500")
    )
    StoreSales.objects.create(
        store=other_store, day=m1.replace(day=5), total=Decimal("420")
    )
    MarketingSpend.objects.create(month=m1, amount=Decimal("1000"))
    MarketingSpend.objects.create(month=m2, amount=Decimal("300"))
    return History(m1, m2, m3, store, other_store, a, b, c, d)
