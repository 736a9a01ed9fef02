"""`manage.py verify_ledger`: every invariant, whole database, offenders listed."""

from __future__ import annotations

from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from members.tests.factories import MemberFactory
from rewards.models import LedgerEntry, PointsAccount, Purchase
from rewards.selectors.invariants import ledger_invariant_violations
from rewards.selectors.program import program_settings_get
from rewards.services import (
    points_adjust,
    points_redeem,
    purchase_record,
    purchase_return_record,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def ledger(store, member):
    """Two members with earns, a partial return, a redemption and an adjustment."""
    conf = program_settings_get()
    conf.points_per_unit, conf.min_purchase = Decimal("1"), Decimal("0")
    conf.save()
    other = MemberFactory(store=store)
    purchase, _ = purchase_record(
        store=store, member=member, receipt_id="R1", total="120.00"
    )
    purchase_return_record(
        purchase=purchase, store=store, receipt_id="RET1", amount="20.00"
    )
    purchase_record(store=store, member=other, receipt_id="R2", total="50.00")
    points_adjust(member=other, points=-5, reason="Fix", created_by=None)
    points_redeem(member=member, store=store, receipt_id="D1", points=30)
    return member, other, purchase


def _run() -> tuple[int, str]:
    out = StringIO()
    try:
        call_command("verify_ledger", stdout=out)
    except CommandError as exc:
        return exc.returncode, out.getvalue() + str(exc)
    return 0, out.getvalue()


def _raw(sql: str, params: list) -> None:
    # The ORM refuses to change ledger rows; a buggy raw write is what we simulate.
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def test_a_clean_ledger_exits_zero_with_a_summary(ledger):
    code, output = _run()

    assert code == 0, output
    assert "Ledger OK: every invariant holds" in output
    assert ledger_invariant_violations() == []


def test_an_empty_database_is_clean(db):
    assert _run()[0] == 0


def test_a_corrupted_balance_exits_one_naming_the_card(ledger):
    member, other, _purchase = ledger
    _raw(
        f"UPDATE {PointsAccount._meta.db_table} SET balance = balance + 7 "  # noqa: S608
        "WHERE member_id = %s",
        [member.pk],
    )

    code, output = _run()

    assert code == 1
    assert f"balance: card {member.card_number}" in output
    # The points lots still hold the true balance, so they disagree with the cache too.
    assert f"lots: card {member.card_number}" in output
    assert other.card_number not in output
    assert "Ledger check FAILED: 2 violations" in output


def test_a_wrong_balance_after_breaks_the_running_sum(ledger):
    member, _other, _purchase = ledger
    entry = LedgerEntry.objects.filter(account__member=member).order_by("id").first()
    _raw(
        f"UPDATE {LedgerEntry._meta.db_table} SET balance_after = 999 "  # noqa: S608
        "WHERE id = %s",
        [entry.pk],
    )

    [violation] = ledger_invariant_violations()

    assert violation.check == "running_balance"
    assert violation.card_number == member.card_number
    assert f"entry {entry.pk} says balance 999" in violation.detail


def test_purchase_figures_must_match_their_entries(ledger):
    member, _other, purchase = ledger
    _raw(
        f"UPDATE {Purchase._meta.db_table} "  # noqa: S608
        "SET points_earned = points_earned + 1, points_reversed = 0 WHERE id = %s",
        [purchase.pk],
    )

    checks = sorted(v.check for v in ledger_invariant_violations())

    assert checks == ["purchase_clawback", "purchase_earn"]


def test_ledger_discrepancies_lists_only_the_accounts_that_disagree(store):
    from django.db import connection

    from members.tests.factories import MemberFactory
    from rewards.selectors.invariants import ledger_discrepancies
    from rewards.services import points_adjust

    good, bad, empty = (MemberFactory(store=store) for _ in range(3))
    for m in (good, bad):
        points_adjust(member=m, points=30, reason="seed", created_by=None)
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE rewards_pointsaccount SET balance = 31 WHERE member_id = %s",
            [bad.pk],
        )

    rows = ledger_discrepancies()

    assert [(r["member__card_number"], r["balance"], r["total"]) for r in rows] == [
        (bad.card_number, 31, 30)
    ]
