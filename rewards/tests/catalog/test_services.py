"""Rewards catalog and vouchers: redeeming, using, cancelling and expiring, with the ledger exact."""

import contextlib
import datetime as dt

import pytest
from django.db.models import Sum
from django.utils import timezone

from members.errors import Conflict, InvalidInput, NotFound
from members.tests.factories import MemberFactory, StoreFactory
from rewards.models import (
    LedgerEntry,
    LedgerKind,
    Reward,
    Voucher,
    VoucherSource,
    VoucherStatus,
)
from rewards.selectors.catalog import voucher_code_normalize
from rewards.selectors.ledger import ledger_entries_for_member, member_balance_get
from rewards.selectors.statement import ledger_entry_explain
from rewards.services import (
    VOUCHER_ALPHABET,
    points_adjust,
    reward_redeem,
    reward_save,
    voucher_cancel,
    voucher_consume,
    voucher_expire_due,
    voucher_grant,
    voucher_validate,
)
from rewards.tests.factories import RewardFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def rich(member):
    points_adjust(member=member, points=1000, reason="start", created_by=None)
    return member


@pytest.fixture
def coffee():
    return RewardFactory(name="Free coffee", points_cost=150, stock=10)


def _redeem(member, reward, key="k1", **kw):
    return reward_redeem(member=member, reward=reward, idempotency_key=key, **kw)


def _assert_ledger_exact(member):
    total = LedgerEntry.objects.filter(account__member=member).aggregate(
        s=Sum("points")
    )["s"]
    assert member_balance_get(member_id=member.pk) == total


def test_redeem_issues_a_voucher_spends_points_and_takes_stock(rich, coffee):
    voucher, replayed = _redeem(rich, coffee)

    assert not replayed
    assert voucher.status == VoucherStatus.ISSUED
    assert voucher.points_spent == 150
    assert len(voucher.code) == 11 and voucher.code[5] == "-"
    assert set(voucher.code.replace("-", "")) <= set(VOUCHER_ALPHABET)
    assert voucher.expires_at - voucher.issued_at == dt.timedelta(days=30)
    assert member_balance_get(member_id=rich.pk) == 850
    coffee.refresh_from_db()
    assert coffee.stock == 9
    entry = voucher.ledger_entries.get()
    assert (entry.kind, entry.points, entry.balance_after) == ("redeem", -150, 850)
    _assert_ledger_exact(rich)


def test_redeem_reads_the_lots_once_and_writes_the_voucher_with_its_entry(rich, coffee):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        voucher, _replayed = _redeem(rich, coffee)

    sqls = [q["sql"] for q in captured.captured_queries]
    lot_reads = [
        sql
        for sql in sqls
        if sql.startswith("SELECT") and '"rewards_pointslot"' in sql.split("WHERE")[0]
    ]
    assert len(lot_reads) == 1, lot_reads  # the plan is also the spendable check
    inserts = [sql for sql in sqls if '"rewards_voucher"' in sql and "INSERT" in sql]
    if connection.vendor == "postgresql":  # with the balance, entry and draws
        assert len(inserts) == 1 and inserts[0].startswith("WITH"), inserts
    assert voucher.pk and voucher.ledger_entries.get().points == -coffee.points_cost
    _assert_ledger_exact(rich)


def test_redeem_rejects_insufficient_points_stating_the_balance(member, coffee):
    points_adjust(member=member, points=100, reason="start", created_by=None)
    with pytest.raises(
        Conflict,
        match=r"^Not enough points for “Free coffee”: it costs 150, the balance is 100\.$",
    ) as exc:
        _redeem(member, coffee)
    assert exc.value.extra["balance"] == 100
    assert not Voucher.objects.exists()
    coffee.refresh_from_db()
    assert coffee.stock == 10


def test_redeem_rejects_when_out_of_stock(rich):
    reward = RewardFactory(name="Tote bag", stock=1)
    _redeem(rich, reward, "a")
    with pytest.raises(
        Conflict, match=r"^“Tote bag” is out of stock: none are left\.$"
    ):
        _redeem(rich, reward, "b")
    assert member_balance_get(member_id=rich.pk) == 850


def test_redeem_unlimited_stock_stays_empty(rich):
    reward = RewardFactory(stock=None)
    _redeem(rich, reward)
    reward.refresh_from_db()
    assert reward.stock is None


def test_redeem_enforces_the_limit_per_member_per_period(rich, store):
    reward = RewardFactory(name="Workshop", limit_count=1, limit_days=30)
    first, _ = _redeem(rich, reward, "a")
    with pytest.raises(
        Conflict,
        match=r"^You can take “Workshop” at most 1 time\(s\) in 30 days; "
        r"you have taken it 1 time\(s\)\.$",
    ):
        _redeem(rich, reward, "b")
    # Another member is not limited by this one, and a cancelled one does not count.
    voucher_cancel(voucher=first, by=None)
    _redeem(rich, reward, "c")
    # Outside the period it may be taken again.
    later = timezone.now() + dt.timedelta(days=31)
    _redeem(rich, reward, "d", recorded_at=later)


def test_redeem_refuses_outside_the_active_dates(rich):
    now = timezone.now()
    soon = RewardFactory(name="Spring", active_from=now + dt.timedelta(days=1))
    over = RewardFactory(
        name="Winter",
        active_from=now - dt.timedelta(days=10),
        active_until=now - dt.timedelta(days=1),
    )
    off = RewardFactory(name="Off", is_active=False)
    with pytest.raises(Conflict, match=r"^“Spring” is available from "):
        _redeem(rich, soon, "a")
    with pytest.raises(
        Conflict, match=r"^“Winter” is no longer available: it ended on"
    ):
        _redeem(rich, over, "b")
    with pytest.raises(Conflict, match=r"^“Off” is not available\.$"):
        _redeem(rich, off, "c")
    assert member_balance_get(member_id=rich.pk) == 1000


def test_redeem_retry_with_the_same_key_returns_the_first_voucher(rich, coffee):
    first, replayed1 = _redeem(rich, coffee, "same")
    again, replayed2 = _redeem(rich, coffee, "same")
    assert (replayed1, replayed2) == (False, True)
    assert again.pk == first.pk
    assert member_balance_get(member_id=rich.pk) == 850
    coffee.refresh_from_db()
    assert coffee.stock == 9


def test_redeem_same_key_for_another_reward_is_a_conflict(rich, coffee):
    _redeem(rich, coffee, "same")
    with pytest.raises(
        Conflict, match=r"^This redemption was already made for another reward"
    ):
        _redeem(rich, RewardFactory(), "same")


def test_redeem_needs_a_key(rich, coffee):
    with pytest.raises(InvalidInput, match="redemption key"):
        _redeem(rich, coffee, " ")


def test_voucher_codes_are_read_forgivingly():
    assert voucher_code_normalize("k7pq2 xm9rd") == "K7PQ2-XM9RD"
    assert voucher_code_normalize("K7PQ2XM9RD") == "K7PQ2-XM9RD"
    assert voucher_code_normalize("K7PQ2-XM9R0") is None  # 0 is not in the alphabet
    assert voucher_code_normalize("") is None


def test_validate_says_valid_then_used_with_the_reason(rich, coffee, store):
    voucher, _ = _redeem(rich, coffee)
    checked = voucher_validate(code=voucher.code.lower(), store=store)
    assert checked.is_valid and checked.reason == ""
    voucher_consume(code=voucher.code, store=store, receipt_id="R-1")
    checked = voucher_validate(code=voucher.code, store=store)
    assert not checked.is_valid
    assert checked.reason.startswith(f"Voucher {voucher.code} was already used on ")
    assert "Main Street" not in checked.reason and "R-1" not in checked.reason


def test_validate_unknown_code_is_not_found(store):
    with pytest.raises(NotFound, match=r"^No voucher has the code ZZZZZ-ZZZZZ\.$"):
        voucher_validate(code="ZZZZZ-ZZZZZ", store=store)


def test_consume_is_idempotent_for_the_same_receipt(rich, coffee, store, cashier):
    voucher, _ = _redeem(rich, coffee)
    used, replayed1 = voucher_consume(
        code=voucher.code, store=store, receipt_id="R-1", created_by=cashier
    )
    again, replayed2 = voucher_consume(code=voucher.code, store=store, receipt_id="R-1")
    assert (replayed1, replayed2) == (False, True)
    assert used.status == again.status == VoucherStatus.USED
    assert again.used_at == used.used_at and again.used_by == cashier
    assert member_balance_get(member_id=rich.pk) == 850  # using moves no points


def test_consume_after_use_on_another_receipt_is_a_conflict(rich, coffee, store):
    voucher, _ = _redeem(rich, coffee)
    voucher_consume(code=voucher.code, store=store, receipt_id="R-1")
    with pytest.raises(
        Conflict,
        match=rf"^Voucher {voucher.code} was already used on .*; a voucher is used once\.$",
    ):
        voucher_consume(code=voucher.code, store=store, receipt_id="R-2")
    other = StoreFactory(code="x2", name="X2")
    with pytest.raises(Conflict, match="already used"):
        voucher_consume(code=voucher.code, store=other, receipt_id="R-1")


def test_consume_refuses_expired_and_cancelled(rich, coffee, store):
    expired, _ = _redeem(rich, coffee, "a")
    cancelled, _ = _redeem(rich, coffee, "b")
    voucher_cancel(voucher=cancelled, by=None)
    later = expired.expires_at + dt.timedelta(seconds=1)
    with pytest.raises(Conflict, match=rf"^Voucher {expired.code} expired on "):
        voucher_consume(
            code=expired.code, store=store, receipt_id="R", recorded_at=later
        )
    with pytest.raises(Conflict, match=rf"^Voucher {cancelled.code} was cancelled on "):
        voucher_consume(code=cancelled.code, store=store, receipt_id="R")


def test_cancel_refunds_once_and_returns_the_stock(rich, coffee, admin_user):
    voucher, _ = _redeem(rich, coffee)
    cancelled = voucher_cancel(voucher=voucher, by=admin_user)
    again = voucher_cancel(voucher=voucher, by=admin_user)

    assert cancelled.status == again.status == VoucherStatus.CANCELLED
    assert cancelled.points_refunded == 150
    assert member_balance_get(member_id=rich.pk) == 1000
    refunds = LedgerEntry.objects.filter(voucher=voucher, kind=LedgerKind.REFUND)
    assert [e.points for e in refunds] == [150]
    coffee.refresh_from_db()
    assert coffee.stock == 10
    _assert_ledger_exact(rich)


def test_cancel_keeps_points_when_the_reward_says_so(rich):
    reward = RewardFactory(refund_points_on_cancel=False)
    voucher, _ = _redeem(rich, reward)
    voucher_cancel(voucher=voucher, by=None)
    assert member_balance_get(member_id=rich.pk) == 850


def test_cancel_of_a_used_voucher_is_a_conflict(rich, coffee, store):
    voucher, _ = _redeem(rich, coffee)
    voucher_consume(code=voucher.code, store=store, receipt_id="R-1")
    with pytest.raises(Conflict, match=r"^Only an unused voucher can be cancelled\. "):
        voucher_cancel(voucher=voucher, by=None)


def test_expiry_refunds_once_when_run_twice(rich):
    reward = RewardFactory(refund_points_on_expiry=True, voucher_valid_days=7)
    keep = RewardFactory(refund_points_on_expiry=False, voucher_valid_days=7)
    v1, _ = _redeem(rich, reward, "a")
    v2, _ = _redeem(rich, keep, "b")
    fresh, _ = _redeem(
        rich, reward, "c", recorded_at=timezone.now() + dt.timedelta(days=5)
    )
    later = timezone.now() + dt.timedelta(days=8)

    assert voucher_expire_due(now=later) == 2
    assert voucher_expire_due(now=later) == 0

    assert member_balance_get(member_id=rich.pk) == 1000 - 3 * 150 + 150
    for v, status in ((v1, "expired"), (v2, "expired"), (fresh, "issued")):
        v.refresh_from_db()
        assert v.status == status
    assert LedgerEntry.objects.filter(kind=LedgerKind.REFUND).count() == 1
    _assert_ledger_exact(rich)


def test_expiry_works_in_batches(rich):
    reward = RewardFactory(refund_points_on_expiry=True, voucher_valid_days=1)
    for i in range(5):
        _redeem(rich, reward, f"k{i}")
    later = timezone.now() + dt.timedelta(days=2)
    assert voucher_expire_due(now=later, batch=2) == 5
    assert member_balance_get(member_id=rich.pk) == 1000


def test_statement_explains_voucher_entries(rich):
    reward = RewardFactory(name="Free coffee", refund_points_on_expiry=True)
    voucher, _ = _redeem(rich, reward)
    voucher_expire_due(now=voucher.expires_at)
    texts = [
        ledger_entry_explain(e, currency="UAH")
        for e in ledger_entries_for_member(member_id=rich.pk)
    ]
    assert f"Reward “Free coffee”, voucher {voucher.code} → -150 points" in texts
    assert f"Voucher {voucher.code} expired, points returned → +150 points" in texts


def test_statement_explains_a_cancelled_voucher(rich, coffee):
    voucher, _ = _redeem(rich, coffee)
    voucher_cancel(voucher=voucher, by=None)
    texts = [
        ledger_entry_explain(e, currency="UAH")
        for e in ledger_entries_for_member(member_id=rich.pk)
    ]
    assert (
        texts[0] == f"Voucher {voucher.code} cancelled, points returned → +150 points"
    )


def test_balance_equals_the_sum_of_entries_through_a_voucher_life(rich, store):
    members = [rich, MemberFactory(store=store)]
    points_adjust(member=members[1], points=400, reason="start", created_by=None)
    reward = RewardFactory(stock=3, refund_points_on_expiry=True)
    vouchers = []
    for i, m in enumerate(members * 2):
        with contextlib.suppress(Conflict):
            vouchers.append(_redeem(m, reward, f"k{i}")[0])
    voucher_consume(code=vouchers[0].code, store=store, receipt_id="R")
    voucher_cancel(voucher=vouchers[1], by=None)
    voucher_expire_due(now=timezone.now() + dt.timedelta(days=31))
    for m in members:
        _assert_ledger_exact(m)
    reward.refresh_from_db()
    assert reward.stock == 3 - len(vouchers) + 2


def test_reward_save_applies_an_admin_stock_edit_as_a_change(rich):
    reward = RewardFactory(stock=10)
    seen = reward.stock
    _redeem(rich, reward)  # someone redeems while the admin form is open
    edited = Reward.objects.get(pk=reward.pk)
    edited.stock = 15  # the editor adds 5 to what they saw
    reward_save(reward=edited, stock_seen=seen)
    edited.refresh_from_db()
    assert edited.stock == 14


def test_nightly_expiry_task_run_twice_refunds_once(rich, settings):
    from rewards import tasks

    reward = RewardFactory(refund_points_on_expiry=True, voucher_valid_days=1)
    _redeem(rich, reward, recorded_at=timezone.now() - dt.timedelta(days=2))

    assert tasks.voucher_expire_due.apply().get() == 1
    assert tasks.voucher_expire_due.apply().get() == 0
    assert member_balance_get(member_id=rich.pk) == 1000
    schedule = settings.CELERY_BEAT_SCHEDULE["voucher-expire-nightly"]
    assert schedule["task"] == "rewards.tasks.voucher_expire_due"


class TestVoucherGrant:
    def test_grant_issues_a_free_voucher_without_stock_or_ledger(self, member):
        reward = RewardFactory(points_cost=300, stock=0)
        voucher, replayed = voucher_grant(
            member=member,
            reward=reward,
            source=VoucherSource.STAMP_CARD,
            idempotency_key="stamp-card:1",
        )
        assert not replayed
        assert voucher.points_spent == 0
        assert voucher.source == VoucherSource.STAMP_CARD
        assert voucher.status == VoucherStatus.ISSUED
        reward.refresh_from_db()
        assert reward.stock == 0
        assert not LedgerEntry.objects.filter(account__member=member).exists()

    def test_grant_retry_returns_the_first_voucher(self, member):
        reward = RewardFactory()
        first, _ = voucher_grant(
            member=member, reward=reward, source="birthday", idempotency_key="b:1"
        )
        again, replayed = voucher_grant(
            member=member, reward=reward, source="birthday", idempotency_key="b:1"
        )
        assert replayed and again.pk == first.pk
        other = MemberFactory()
        with pytest.raises(Conflict, match="already given for another"):
            voucher_grant(
                member=other, reward=reward, source="birthday", idempotency_key="b:1"
            )

    def test_grant_refuses_redeemed_as_a_source(self, member):
        with pytest.raises(InvalidInput, match="Choose why"):
            voucher_grant(
                member=member,
                reward=RewardFactory(),
                source=VoucherSource.REDEEMED,
                idempotency_key="x",
            )

    def test_cancelling_a_granted_voucher_returns_no_points(self, member, admin_user):
        voucher, _ = voucher_grant(
            member=member,
            reward=RewardFactory(refund_points_on_cancel=True),
            source="goodwill",
            idempotency_key="g:1",
        )
        voucher_cancel(voucher=voucher, by=admin_user)
        voucher.refresh_from_db()
        assert voucher.status == VoucherStatus.CANCELLED
        assert member_balance_get(member_id=member.pk) == 0
        assert not LedgerEntry.objects.filter(account__member=member).exists()
