"""A purchase on PostgreSQL reads the member's account without locking it and
takes the lock in its write statement, which writes only if the account is
still as read (rewards.ledger_rows.entry_write_guarded, row_insert_guarded);
else it writes nothing, and the purchase is written again on the account
locked (rewards.services.receipts.receipt_record). The lock is then held from
the write to the commit, not while the points are computed.

Each race test holds the account's lock in a second connection, changes the
account there, and commits once the purchase is waiting for that lock, after
its unlocked read.
"""

from __future__ import annotations

import threading
import time
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from members.tests.factories import MemberFactory, StoreFactory
from rewards.locks import account_lock
from rewards.models import LedgerEntry, LedgerKind, PointsAccount, PointsLot
from rewards.selectors.invariants import (
    ledger_discrepancies,
    ledger_invariant_violations,
)
from rewards.selectors.program import program_settings_get
from rewards.services import purchase_record
from rewards.services.ledger import entry_post
from rewards.tests.factories import TierFactory

pytestmark = pytest.mark.postgres


@pytest.fixture
def store(db):
    return StoreFactory(code="guard", name="Guard Street")


@pytest.fixture
def member(store):
    conf = program_settings_get()
    conf.points_per_unit, conf.min_purchase = Decimal("1"), Decimal("0")
    conf.save()
    return MemberFactory(store=store)


def _account(member) -> PointsAccount:
    return PointsAccount.objects.get(member=member)


def _locks(captured) -> int:
    """How many statements took the account's lock before the write."""
    return sum(
        q["sql"].startswith("SELECT") and "FOR UPDATE" in q["sql"]
        for q in captured.captured_queries
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("debt", "lot_left"),
    [(0, 50), (30, 20), (50, None), (80, None)],
    ids=["no debt", "debt paid, a lot of the rest", "debt paid exactly", "debt left"],
)
def test_the_new_balance_pays_a_debt_first(store, member, debt, lot_left):
    if debt:
        with transaction.atomic():
            entry_post(
                account=account_lock(member_id=member.pk),
                kind=LedgerKind.CLAWBACK,
                points=-debt,
                reason="a clawback's debt",
            )
    with CaptureQueriesContext(connection) as captured:
        purchase, _replayed = purchase_record(
            store=store, member=member, receipt_id="G-1", total="50.00"
        )

    assert _locks(captured) == 0  # the write took the lock
    balance = _account(member).balance
    assert balance == 50 - debt
    entry = LedgerEntry.objects.get(purchase=purchase)
    assert entry.balance_after == purchase.balance_after == balance
    purchase.refresh_from_db()
    assert purchase.balance_after == balance
    lot = PointsLot.objects.filter(entry=entry).first()
    assert (lot.remaining if lot else None) == lot_left
    assert ledger_discrepancies() == []


@pytest.mark.django_db
def test_a_purchase_earning_nothing_takes_the_lock_with_its_row(store, member):
    conf = program_settings_get()
    conf.min_purchase = Decimal("100.00")
    conf.save()
    with CaptureQueriesContext(connection) as captured:
        purchase, _replayed = purchase_record(
            store=store, member=member, receipt_id="G-0", total="5.00"
        )
    assert purchase.points_earned == 0 and _locks(captured) == 0
    (write,) = [q["sql"] for q in captured.captured_queries if "INSERT" in q["sql"]]
    assert write.startswith("WITH") and "FOR UPDATE" in write


def _while_held(member, change, *, late: bool = False) -> threading.Thread:
    """A thread that locks the member's account, runs change(account), and
    commits 0.4 s after it was told the purchase has started (`late`: runs
    the change then, while the purchase waits for the lock)."""
    held, go = threading.Event(), threading.Event()

    def target() -> None:
        try:
            with transaction.atomic():
                account = account_lock(member_id=member.pk)
                if not late:
                    change(account)
                held.set()
                go.wait(timeout=10)
                time.sleep(0.4)  # the purchase reads, then waits for the lock
                if late:
                    change(account)
        finally:
            connection.close()

    thread = threading.Thread(target=target)
    thread.start()
    assert held.wait(timeout=10)
    thread.go = go
    return thread


def _buy_while(member, store, change, *, total="10.00", late=False):
    thread = _while_held(member, change, late=late)
    thread.go.set()
    with CaptureQueriesContext(connection) as captured:
        purchase, _replayed = purchase_record(
            store=store, member=member, receipt_id="G-R", total=total
        )
    thread.join(timeout=10)
    assert not thread.is_alive()
    return purchase, captured


def _adjust(points: int, kind: str = LedgerKind.ADJUST):
    def change(account):
        entry_post(account=account, kind=kind, points=points, reason="a bonus")

    return change


@pytest.mark.django_db(transaction=True)
def test_a_balance_moved_meanwhile_is_added_to_not_overwritten(store, member):
    """No tier: what the write checks has not changed, so it writes at once,
    from the balance it locked (the bonus committed after the read)."""
    purchase, captured = _buy_while(member, store, _adjust(100))

    assert _locks(captured) == 0
    assert purchase.balance_after == _account(member).balance == 110
    assert ledger_discrepancies() == []


@pytest.mark.django_db(transaction=True)
def test_an_entry_written_while_the_purchase_waits_comes_first_in_time(store, member):
    """The bonus is written while the purchase waits for the lock, after the
    purchase read the account and made its entry. The purchase's entry,
    written once the lock is free, follows the bonus in balance, so it must
    follow it in time too: verify_ledger checks each entry's balance against
    the running sum in time order, and the statement a customer reads is in
    that order. Its time is the clock's once the lock is held, and its lot's."""
    purchase, captured = _buy_while(member, store, _adjust(100), late=True)

    assert _locks(captured) == 0
    bonus, earn = LedgerEntry.objects.filter(account__member=member).order_by(
        "created_at", "id"
    )
    assert (bonus.points, earn.points) == (100, 10)
    assert (bonus.balance_after, earn.balance_after) == (100, 110)
    assert purchase.balance_after == 110
    lot = PointsLot.objects.get(entry=earn)
    assert lot.earned_at == earn.created_at <= lot.available_at
    assert ledger_invariant_violations() == []


@pytest.mark.django_db(transaction=True)
def test_a_tier_changed_meanwhile_is_written_again_at_the_new_tier(store, member):
    """The member is in the top tier (nothing to check after the purchase),
    and is moved down to x1 after the read at x3: the write finds another tier
    and writes nothing; the purchase is written again, locked, at x1."""
    low = TierFactory(rank=1, earn_multiplier=Decimal("1.00"))
    top = TierFactory(rank=2, earn_multiplier=Decimal("3.00"))
    PointsAccount.objects.filter(member=member).update(tier=top)

    def move_down(account):
        account.tier = low
        account.save(update_fields=["tier"])

    purchase, captured = _buy_while(member, store, move_down)

    assert _locks(captured) == 1
    assert (purchase.tier_id, purchase.points_earned) == (low.pk, 10)
    assert _account(member).balance == 10 and purchase.balance_after == 10
    assert LedgerEntry.objects.filter(purchase__isnull=False).count() == 1
    assert ledger_discrepancies() == []


@pytest.mark.django_db(transaction=True)
def test_tier_values_read_before_a_write_meanwhile_are_read_again(store, member):
    """A tier is within reach, so the write statement also reads the tier
    values, as of its start: any write to the account after the read makes
    it write nothing, and the purchase is written again, locked. The points
    earned meanwhile then count: 100 + 10 reach the tier (read as of the
    first write statement's start, they would not have)."""
    tier = TierFactory(
        rank=1,
        threshold=Decimal("105"),
        qualification="points",
        earn_multiplier=Decimal("1.00"),
    )

    purchase, captured = _buy_while(member, store, _adjust(100, LedgerKind.EARN))

    assert _locks(captured) == 1
    account = _account(member)
    assert account.balance == 110 and purchase.balance_after == 110
    assert account.tier_id == tier.pk
    assert ledger_discrepancies() == []
