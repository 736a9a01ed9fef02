"""Test data for RFM and recommendations: members through the enrolment
service, receipts written in bulk (these tests read purchases, they do not
test how points are earned)."""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass
from decimal import Decimal

from members.tests.factories import MemberFactory
from rewards.models import Purchase, PurchaseLine

_receipts = itertools.count(1)


@dataclass
class Line:
    sku: str
    category: str = ""
    amount: Decimal = Decimal("10.00")
    returned: bool = False


def members_make(n: int, store) -> list:
    return [MemberFactory(store=store) for _ in range(n)]


def purchases_make(store, specs) -> list[Purchase]:
    """specs: (member, occurred_at, total | None, [Line, ...], returned_total)."""
    purchases = []
    for member, at, total, lines, returned in specs:
        lines = lines or [Line("ANY")]
        purchases.append(
            Purchase(
                store=store,
                receipt_id=f"t{next(_receipts)}",
                member=member,
                total=total if total is not None else sum(li.amount for li in lines),
                returned_total=returned or Decimal("0"),
                occurred_at=at,
                points_per_unit=Decimal("1"),
                min_purchase=Decimal("0"),
                balance_after=0,
                source=Purchase.Source.IMPORT,
                fingerprint="test",
            )
        )
    Purchase.objects.bulk_create(purchases, batch_size=1000)
    if not all(p.pk for p in purchases):  # backends without RETURNING ids
        by_receipt = dict(
            Purchase.objects.filter(
                receipt_id__in=[p.receipt_id for p in purchases]
            ).values_list("receipt_id", "pk")
        )
        for p in purchases:
            p.pk = p.id = by_receipt[p.receipt_id]
    rows = []
    for purchase, (_m, _at, _total, lines, _r) in zip(purchases, specs, strict=True):
        for li in lines or [Line("ANY")]:
            rows.append(
                PurchaseLine(
                    purchase=purchase,
                    sku=li.sku,
                    name=f"Item {li.sku}",
                    category=li.category,
                    quantity=Decimal("1"),
                    unit_price=li.amount,
                    amount=li.amount,
                    quantity_returned=Decimal("1") if li.returned else Decimal("0"),
                )
            )
    PurchaseLine.objects.bulk_create(rows, batch_size=2000)
    return purchases


NOW = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.UTC)
