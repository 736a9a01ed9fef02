"""What a redemption sends while the member's account is locked (bench 4, the
hot member: every other writer on the member waits for it), and the retries
its one-statement look-up must still answer from the first row."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from rewards.models import LedgerEntry, LotDraw, Redemption
from rewards.selectors.invariants import ledger_discrepancies
from rewards.selectors.ledger import member_balance_get
from rewards.services import points_redeem, purchase_record
from rewards.services import receipts as receipts_module

pytestmark = pytest.mark.django_db


def _earn(store, member, receipt_id: str, total: str = "100.00") -> None:
    purchase_record(store=store, member=member, receipt_id=receipt_id, total=total)


def test_a_redemption_is_two_statements_under_the_lock_on_postgresql(store, member):
    """Lock the account reading the receipt with it; then, on PostgreSQL, one
    statement that draws on the spendable lots (the spendable check), inserts
    the redemption, moves the balance and appends the entry
    (rewards.ledger_rows.entry_write_drawing). SQLite reads the lots first,
    then writes in five statements (rewards.ledger_rows.entry_write)."""
    for k in range(3):  # a draw on two lots
        _earn(store, member, f"P-{k}", "10.00")
    points_redeem(member=member, store=store, points=1, receipt_id="S-0")
    with CaptureQueriesContext(connection) as captured:
        points_redeem(member=member, store=store, points=15, receipt_id="S-1")

    sent = [
        q["sql"]
        for q in captured.captured_queries
        if not q["sql"].startswith(("SAVEPOINT", "RELEASE SAVEPOINT"))
    ]
    under_lock = (
        ["SELECT", "WITH"]
        if connection.vendor == "postgresql"
        else ["SELECT", "SELECT", "INSERT", "UPDATE", "INSERT", "UPDATE", "INSERT"]
    )
    # Before the lock, the program's settings (held per process elsewhere).
    assert [sql.split(" ", 1)[0] for sql in sent] == ["SELECT", *under_lock]
    assert "existing_id" in sent[1]
    redemption = Redemption.objects.get(receipt_id="S-1")
    assert LotDraw.objects.filter(entry__redemption=redemption).count() == 2
    assert ledger_discrepancies() == []


def _lock_missing_the_receipt(monkeypatch):
    """The locking statement's look-up as it reads when a retry of the same
    receipt committed while the statement waited for the lock: nothing."""
    real = receipts_module.account_lock_with_receipt

    def lock(**kwargs):
        return real(**kwargs)[0], None

    monkeypatch.setattr(receipts_module, "account_lock_with_receipt", lock)


def test_a_retry_the_lock_missed_is_answered_though_the_points_are_gone(
    store, member, monkeypatch
):
    _earn(store, member, "P-1")
    first, _replayed = points_redeem(
        member=member, store=store, points=60, receipt_id="S-1"
    )
    _lock_missing_the_receipt(monkeypatch)

    # 40 points left: the spend is refused, then the receipt found after all.
    again, replayed = points_redeem(
        member=member, store=store, points=60, receipt_id="S-1"
    )

    assert replayed is True and again.pk == first.pk
    assert member_balance_get(member_id=member.pk) == 40
    assert LedgerEntry.objects.filter(redemption__isnull=False).count() == 1
    assert ledger_discrepancies() == []


def test_a_retry_the_lock_missed_is_answered_when_points_are_left(
    store, member, monkeypatch
):
    _earn(store, member, "P-1")
    first, _replayed = points_redeem(
        member=member, store=store, points=30, receipt_id="S-1"
    )
    _lock_missing_the_receipt(monkeypatch)

    # Enough left: the insert meets the receipt's unique constraint.
    again, replayed = points_redeem(
        member=member, store=store, points=30, receipt_id="S-1"
    )

    assert replayed is True and again.pk == first.pk
    assert member_balance_get(member_id=member.pk) == 70
    assert LotDraw.objects.count() == 1
    assert ledger_discrepancies() == []
