"""Concurrent purchases, returns and the nightly expiry on one member's stamp cards.

PostgreSQL only (row locks); threads start together on a barrier, each on its
own connection, as gunicorn workers or till retries would.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db.models import Sum
from django.utils import timezone

from members.tests.factories import MemberFactory, StoreFactory
from rewards.models import (
    StampCard,
    StampCardStatus,
    StampEntryKind,
    StampTrigger,
    Voucher,
    VoucherSource,
)
from rewards.services import (
    LineInput,
    ReturnLineInput,
    purchase_record,
    purchase_return_record,
    stamp_cards_expire_due,
)
from rewards.tests.factories import RewardFactory, StampProgramFactory
from rewards.tests.ledger.test_races import THREADS, assert_ledger_exact, run_together

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def store(db):
    return StoreFactory(code="race", name="Race Street")


@pytest.fixture
def member(store):
    return MemberFactory(store=store)


def _program(needed: int, **kw):
    return StampProgramFactory(
        trigger=StampTrigger.UNIT,
        category="coffee",
        stamps_needed=needed,
        reward=RewardFactory(name="Free coffee", stock=None),
        **kw,
    )


def _buy(store, member, receipt: str, coffees: int, **kw):
    return purchase_record(
        store=store,
        member=member,
        receipt_id=receipt,
        lines=[
            LineInput(
                sku="COF",
                quantity=Decimal(coffees),
                unit_price=Decimal("50"),
                category="coffee",
            )
        ],
        **kw,
    )


def _assert_cards_exact(member) -> None:
    for card in StampCard.objects.filter(member=member):
        sums = card.entries.aggregate(s=Sum("delta"), o=Sum("owed_delta"))
        assert (card.stamps, card.owed) == (sums["s"] or 0, sums["o"] or 0), card
    assert (
        StampCard.objects.filter(member=member, status=StampCardStatus.OPEN).count()
        == 1
    )


def test_two_purchases_completing_one_card_at_once_issue_one_voucher(store, member):
    _program(needed=5)
    _buy(store, member, "R0", 4)

    results = run_together(2, lambda i: _buy(store, member, f"R{i + 1}", 2))

    assert all(isinstance(r, tuple) for r in results), results
    assert Voucher.objects.filter(source=VoucherSource.STAMP_CARD).count() == 1
    full = StampCard.objects.get(member=member, number=1)
    assert (full.status, full.stamps) == (StampCardStatus.COMPLETED, 5)
    new = StampCard.objects.get(member=member, status=StampCardStatus.OPEN)
    assert (new.number, new.stamps) == (2, 3)
    _assert_cards_exact(member)
    assert_ledger_exact(member)


def test_many_purchases_at_once_fill_exactly_the_cards_they_add_up_to(store, member):
    program = _program(needed=6)

    results = run_together(THREADS, lambda i: _buy(store, member, f"R{i}", 1))

    assert all(isinstance(r, tuple) for r in results), results
    assert Voucher.objects.filter(member=member).count() == THREADS // 6
    assert StampCard.objects.get(
        member=member, program=program, status=StampCardStatus.OPEN
    ).stamps == (THREADS % 6)
    _assert_cards_exact(member)


def test_returns_and_purchases_at_once_keep_every_card_exact(store, member):
    _program(needed=4)
    bought = [_buy(store, member, f"A{i}", 2)[0] for i in range(THREADS // 2)]

    def work(i: int):
        if i % 2:
            return _buy(store, member, f"B{i}", 1)
        return purchase_return_record(
            purchase=bought[i // 2],
            store=store,
            receipt_id=f"RET{i}",
            lines=[ReturnLineInput("COF", Decimal(2))],
        )

    results = run_together(THREADS, work)

    assert all(isinstance(r, tuple) for r in results), results
    _assert_cards_exact(member)
    # Every A purchase went back: only the ten single coffees count.
    kept = THREADS // 2
    full = StampCard.objects.filter(
        member=member, status=StampCardStatus.COMPLETED
    ).count()
    card = StampCard.objects.get(member=member, status=StampCardStatus.OPEN)
    assert 4 * full + card.stamps - card.owed == kept


def test_the_nightly_expiry_beside_a_purchase_closes_the_card_once(store, member):
    _program(needed=10, card_valid_days=5)
    then = timezone.now() - dt.timedelta(days=6)
    _buy(store, member, "OLD", 3, occurred_at=then, recorded_at=then)

    results = run_together(
        2,
        lambda i: _buy(store, member, "NEW", 1) if i else stamp_cards_expire_due(),
    )

    assert not any(isinstance(r, Exception) for r in results), results
    old = StampCard.objects.get(member=member, number=1)
    assert old.status == StampCardStatus.EXPIRED
    assert old.entries.filter(kind=StampEntryKind.EXPIRE).count() == 1
    assert StampCard.objects.get(member=member, number=2).stamps == 1
    _assert_cards_exact(member)
