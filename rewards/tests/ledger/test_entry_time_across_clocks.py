"""Two app servers whose clocks differ still write a member's entries in time
order: a live entry is stamped no earlier than the account's last write
(PointsAccount.updated_at, a LatestTimeField that never goes back; stamped in
rewards.services.ledger.entry_post, and in the guarded purchase's statement).

Server A, a few minutes ahead, writes an entry; then server B, on the real
clock, writes through each service that moves points. Stamped with B's clock
alone, B's entry would come before A's in time, with the later balance: the
member's statement (sorted by time) would show the balances out of order, and
verify_ledger's running-balance check fails. On both databases: the guarded
purchase is PostgreSQL's, every other writer locks the account first.
"""

from __future__ import annotations

import ast
import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone

from members.tests.factories import MemberFactory, StoreFactory
from rewards.models import LedgerEntry, PointsAccount, Purchase
from rewards.selectors.invariants import ledger_invariant_violations
from rewards.selectors.program import program_settings_get
from rewards.services import (
    points_adjust,
    points_bonus_grant,
    points_redeem,
    purchase_record,
    purchase_return_record,
    reward_redeem,
)
from rewards.services.promocode_online import promo_code_redeem_online
from rewards.services.purchase_batches import BatchReceipt, purchases_record_batch
from rewards.services.tiers import tier_evaluate
from rewards.services.vouchers import voucher_cancel
from rewards.tests.factories import PromoCodeFactory, RewardFactory, TierFactory
from tests.house.test_house import project_modules

AHEAD = dt.timedelta(minutes=5)


def _purchase(ctx):
    purchase_record(
        store=ctx["store"], member=ctx["member"], receipt_id="B-1", total="20.00"
    )


def _purchase_with_code(ctx):  # the promo code's lock: the account locked first
    PromoCodeFactory(code="CLOCK", points=7)
    purchase_record(
        store=ctx["store"],
        member=ctx["member"],
        receipt_id="B-2",
        total="20.00",
        promo_code="CLOCK",
    )


def _redemption(ctx):
    points_redeem(member=ctx["member"], store=ctx["store"], points=30, receipt_id="R-1")


def _return(ctx):
    purchase_return_record(
        purchase=ctx["purchase"], store=ctx["store"], receipt_id="X-1", amount="40.00"
    )


def _adjustment(ctx):
    points_adjust(member=ctx["member"], points=-5, reason="a count", created_by=None)


def _bonus(ctx):
    points_bonus_grant(
        member=ctx["member"], points=9, reason="a birthday", idempotency_key="bday"
    )


def _reward(ctx):
    reward_redeem(
        member=ctx["member"],
        reward=RewardFactory(points_cost=50),
        idempotency_key="reward-1",
    )


def _return_of_a_coded_purchase(ctx):  # the code's bonus taken back
    _purchase_with_code(ctx)
    purchase = Purchase.objects.get(receipt_id="B-2")
    purchase_return_record(
        purchase=purchase, store=ctx["store"], receipt_id="X-2", amount="20.00"
    )


def _online_code(ctx):
    PromoCodeFactory(code="WEB", points=11)
    promo_code_redeem_online(member=ctx["member"], code="WEB", idempotency_key="w-1")


def _voucher_cancelled(ctx):  # its points back
    voucher, _replayed = reward_redeem(
        member=ctx["member"],
        reward=RewardFactory(points_cost=40, refund_points_on_cancel=True),
        idempotency_key="reward-2",
    )
    voucher_cancel(voucher=voucher, by=None)


WRITERS = {
    "purchase": _purchase,
    "purchase with a promo code": _purchase_with_code,
    "redemption": _redemption,
    "return": _return,
    "return of a coded purchase": _return_of_a_coded_purchase,
    "adjustment": _adjustment,
    "bonus": _bonus,
    "reward": _reward,
    "online promo code": _online_code,
    "voucher cancelled": _voucher_cancelled,
}
# Every module that writes ledger entries (calls entry_post), and the writer
# above that goes through it: a new one must be walked too.
WALKED = {
    "rewards.services.ledger": "adjustment",
    "rewards.services.purchases": "purchase",
    "rewards.services.receipts": "purchase",
    "rewards.services.promocodes": "return of a coded purchase",
    "rewards.services.promocode_online": "online promo code",
    "rewards.services.redemptions": "redemption",
    "rewards.services.returns": "return",
    "rewards.services.vouchers": "voucher cancelled",
}


def _entry_writing_modules() -> set[str]:
    found = set()
    for name, path in project_modules().items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            func = node.func if isinstance(node, ast.Call) else None
            if getattr(func, "id", None) == "entry_post" or (
                getattr(func, "attr", None) == "entry_post"
            ):
                found.add(name)
    return found


def test_every_module_that_writes_entries_is_walked():
    writing = _entry_writing_modules()
    assert "rewards.services.redemptions" in writing  # the scan sees calls
    assert writing <= set(WALKED), sorted(writing - set(WALKED))
    assert set(WALKED.values()) <= set(WRITERS)


@pytest.mark.django_db
@pytest.mark.parametrize("writer", list(WRITERS.values()), ids=list(WRITERS))
def test_an_entry_written_on_a_clock_behind_comes_after_the_one_before(writer):
    conf = program_settings_get()
    conf.points_per_unit, conf.min_purchase, conf.pending_days = (
        Decimal("1"),
        Decimal("0"),
        0,
    )
    conf.save()
    store = StoreFactory(code="clock", name="Clock Street")
    member = MemberFactory(store=store)
    # Server B, on time: 100 points, spendable now.
    purchase, _replayed = purchase_record(
        store=store, member=member, receipt_id="B-0", total="100.00"
    )
    # Server A, ahead: a correction it stamps with its own clock.
    with time_machine.travel(timezone.now() + AHEAD, tick=True):
        ahead = points_adjust(
            member=member, points=1, reason="server A", created_by=None
        )
    # Server B again.
    writer({"store": store, "member": member, "purchase": purchase})

    entries = list(LedgerEntry.objects.filter(account__member=member).order_by("id"))
    assert len(entries) > 2, "the writer wrote no entry"
    assert all(e.created_at >= ahead.created_at for e in entries[2:]), [
        (e.kind, e.created_at) for e in entries
    ]
    assert ledger_invariant_violations() == []
    account = PointsAccount.objects.get(member=member)
    assert account.updated_at >= entries[-1].created_at


def _entry(member, store):
    points_adjust(member=member, points=4, reason="a count", created_by=None)


def _import_one(member, store, receipt_id: str, occurred_at: dt.datetime) -> None:
    """One receipt through the batch purchase import, which takes it."""
    taken = purchases_record_batch(
        receipts=[
            BatchReceipt(
                store=store,
                member=member,
                receipt_id=receipt_id,
                total="12.00",
                lines=[],
                occurred_at=occurred_at,
            )
        ]
    )
    assert taken == {0: False}


def _purchase_import(member, store):
    _import_one(member, store, "I-1", timezone.now() - dt.timedelta(hours=1))


def _tier_move(member, store):
    TierFactory(threshold=Decimal("0"))
    assert tier_evaluate(member=member) is not None


def _purchase_written(member, store):  # PostgreSQL: the guarded write's GREATEST
    purchase_record(store=store, member=member, receipt_id="T-1", total="12.00")


ACCOUNT_WRITERS = {
    "an entry": _entry,
    "a purchase": _purchase_written,
    "a purchase import": _purchase_import,
    "a tier move": _tier_move,
}
# Every module whose code names the account's time (`updated_at` in a string
# or a keyword, in a module that names PointsAccount), and the writer above
# that writes it through that module, or why the module is not one.
ACCOUNT_TIME_WALKED = {
    "rewards.services.ledger": "an entry",
    "rewards.ledger_rows": "a purchase",
    "rewards.services.purchase_batches": "a purchase import",
    "rewards.services.tiers": "a tier move",
    "rewards.services.migration": "not a writer: opens new accounts (member import)",
    "demo.bulk": "not a writer: opens new accounts (the demo seed)",
    "rewards.admin.ledger": "not a writer: shows the time",
    "rewards.services.vouchers": "not a writer: a reward's own time",
}


def _account_time_modules() -> set[str]:
    found = set()
    for name, path in project_modules().items():
        source = path.read_text(encoding="utf-8")
        if "PointsAccount" not in source and "pointsaccount" not in source:
            continue
        tree = ast.parse(source)
        docstrings = {
            id(node.body[0].value)
            for node in ast.walk(tree)
            if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef)
            and node.body
            and isinstance(node.body[0], ast.Expr)
        }
        for node in ast.walk(tree):
            if (isinstance(node, ast.keyword) and node.arg == "updated_at") or (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and "updated_at" in node.value
                and id(node) not in docstrings
            ):
                found.add(name)
    return found


def test_every_module_that_names_the_account_time_is_walked():
    naming = _account_time_modules()
    assert "rewards.services.purchase_batches" in naming  # the scan sees SQL
    assert naming <= set(ACCOUNT_TIME_WALKED), sorted(naming - set(ACCOUNT_TIME_WALKED))
    writers = {w for w in ACCOUNT_TIME_WALKED.values() if not w.startswith("not ")}
    assert writers <= set(ACCOUNT_WRITERS)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "writer", list(ACCOUNT_WRITERS.values()), ids=list(ACCOUNT_WRITERS)
)
def test_the_account_time_never_goes_back(writer):
    """What writes the account leaves its time where a server ahead put it."""
    store = StoreFactory(code="back", name="Back Street")
    member = MemberFactory(store=store)
    later = timezone.now() + AHEAD
    PointsAccount.objects.filter(member=member).update(updated_at=later)
    writer(member, store)
    assert PointsAccount.objects.get(member=member).updated_at == later


@pytest.mark.django_db
def test_an_entry_recorded_ahead_moves_the_account_time_and_the_next_follows():
    """An entry with its own time (an import, the expiry job given a time)
    later than the account's moves the account's time to it, so the next
    live entry comes after it."""
    store = StoreFactory(code="rec", name="Recorded Street")
    member = MemberFactory(store=store)
    ahead = timezone.now() + AHEAD
    recorded = points_adjust(
        member=member, points=7, reason="imported", created_by=None, recorded_at=ahead
    )
    assert recorded.created_at == ahead
    assert PointsAccount.objects.get(member=member).updated_at >= ahead
    live = points_adjust(member=member, points=-2, reason="a count", created_by=None)
    assert live.created_at >= ahead
    assert ledger_invariant_violations() == []


@pytest.mark.django_db
def test_an_imported_purchase_ahead_moves_the_account_time_and_the_next_follows():
    """The purchase import stamps each entry at its receipt's time (a till's
    clock may be a few minutes ahead, within FUTURE_TOLERANCE): the account's
    time moves on to it, as entry_post's recorded entries do."""
    store = StoreFactory(code="imp", name="Import Street")
    member = MemberFactory(store=store)
    ahead = timezone.now() + AHEAD
    _import_one(member, store, "I-AHEAD", ahead)
    assert PointsAccount.objects.get(member=member).updated_at >= ahead
    live = points_adjust(member=member, points=-2, reason="a count", created_by=None)
    assert live.created_at >= ahead
    assert ledger_invariant_violations() == []
