"""A redemption on PostgreSQL draws on the lots in its write statement
(rewards.ledger_rows.entry_write_drawing), after the account's lock, instead
of reading them and planning the draws in Python first. The draws must be
those the plan in Python (lots_draw_plan, spendable lots only) makes on the
same lots: soonest-expiring first, never-expiring last, then oldest first,
pending lots left alone; and a spend the spendable lots cannot cover is
refused with nothing written."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import transaction
from django.utils import timezone

from members.errors import Conflict
from rewards.locks import account_lock
from rewards.models import LedgerEntry, LotDraw, PointsLot, Redemption
from rewards.selectors.invariants import ledger_discrepancies
from rewards.selectors.program import program_settings_get
from rewards.services import points_redeem, purchase_record
from rewards.services.ledger import lots_draw_plan

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

# Each purchase of 10 earns one lot of 10 points: (days to its expiry or
# None, days until it may be spent).
LOTS = [(None, 0), (30, 0), (10, 0), (10, 0), (None, 0), (5, 0), (3, 1), (20, 0)]


@pytest.fixture
def lots(store, member):
    conf = program_settings_get()
    conf.points_per_unit, conf.min_purchase = Decimal("1"), Decimal("0")
    conf.pending_days = 0
    conf.save()
    now = timezone.now()
    for k, (expires, pending) in enumerate(LOTS):
        purchase, _replayed = purchase_record(
            store=store, member=member, receipt_id=f"L-{k}", total="10.00"
        )
        PointsLot.objects.filter(entry__purchase=purchase).update(
            expires_at=now + dt.timedelta(days=expires) if expires else None,
            available_at=now + dt.timedelta(days=pending),
        )
    return member


def _plan(member, points: int) -> list[tuple[int, int]]:
    """What lots_draw_plan would take, read under the lock, writing nothing."""
    with transaction.atomic():
        draws, short = lots_draw_plan(
            account_lock(member_id=member.pk), points, spendable_only=True
        )
    assert not short
    return [(d.lot.pk, d.points) for d in draws]


def test_the_statement_draws_as_the_plan_does(store, lots):
    member = lots
    # A spend of 1, the rest of that lot and two more, then two whole lots
    # with ties on the expiry, then the never-expiring ones, oldest first.
    for k, points in enumerate([1, 9, 14, 20, 23]):
        expected = _plan(member, points)
        redemption, _replayed = points_redeem(
            member=member, store=store, points=points, receipt_id=f"S-{k}"
        )
        drawn = [
            (d.lot_id, d.points)
            for d in LotDraw.objects.filter(entry__redemption=redemption).order_by("pk")
        ]
        assert drawn == expected, points
    assert ledger_discrepancies() == []
    # The pending lot (due tomorrow) was not drawn on: 70 of 80 were spendable.
    pending = PointsLot.objects.get(available_at__gt=timezone.now())
    assert pending.remaining == 10


def test_a_spend_beyond_the_spendable_lots_is_refused_writing_nothing(store, lots):
    member = lots
    counts = (Redemption.objects.count(), LedgerEntry.objects.count())
    remaining = sorted(PointsLot.objects.values_list("pk", "remaining"))

    with pytest.raises(Conflict) as refused:
        points_redeem(member=member, store=store, points=71, receipt_id="S-X")

    assert "pending" in str(refused.value)  # 70 now, 10 more pending
    assert (Redemption.objects.count(), LedgerEntry.objects.count()) == counts
    assert sorted(PointsLot.objects.values_list("pk", "remaining")) == remaining
    redemption, _replayed = points_redeem(
        member=member, store=store, points=70, receipt_id="S-Y"
    )
    assert redemption.balance_after == 10
    assert ledger_discrepancies() == []


def test_a_spend_over_more_lots_than_the_statement_reads_is_planned(store, lots):
    """The statement looks at the first DRAWING_LOTS spendable lots only; a
    spend that needs more is planned over all of them, as before."""
    from rewards.ledger_rows import DRAWING_LOTS

    member = lots
    for k in range(DRAWING_LOTS):
        purchase_record(store=store, member=member, receipt_id=f"M-{k}", total="10.00")
    points = (DRAWING_LOTS + 2) * 10 - 5
    expected = _plan(member, points)
    assert len(expected) > DRAWING_LOTS

    redemption, _replayed = points_redeem(
        member=member, store=store, points=points, receipt_id="S-M"
    )

    drawn = [
        (d.lot_id, d.points)
        for d in LotDraw.objects.filter(entry__redemption=redemption).order_by("pk")
    ]
    assert drawn == expected
    assert ledger_discrepancies() == []
