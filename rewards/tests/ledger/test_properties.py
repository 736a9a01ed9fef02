"""Property test of the points ledger against a plain-Python model of it.

Any sequence of purchases, returns, redemptions, adjustments, bonuses, rate
changes and reward vouchers (redeemed, cancelled with or without a refund,
cancelled twice), with tier upgrades changing the earning rate on the way,
points pending after purchases and expiring by lot as a simulated clock moves
on, valid or not, must keep the member's balance equal to the sum of the ledger
entries and to the model's balance, and every points lot equal to the model's
lot; a refused operation changes nothing.
"""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass, field
from decimal import ROUND_FLOOR, ROUND_HALF_EVEN, Decimal
from functools import partial

import pytest
from dateutil.relativedelta import relativedelta
from django.db.models import Sum
from django.utils import timezone, translation
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from members.errors import Conflict, InvalidInput
from members.tests.factories import MemberFactory
from rewards.models import (
    LedgerEntry,
    PointsAccount,
    PointsLot,
    Purchase,
    Reward,
    Tier,
    Voucher,
    VoucherStatus,
)
from rewards.selectors.invariants import ledger_invariant_violations
from rewards.selectors.program import program_settings_get
from rewards.services import (
    LineInput,
    ReturnLineInput,
    points_adjust,
    points_bonus_grant,
    points_expire_due,
    points_redeem,
    purchase_record,
    purchase_return_record,
    reward_redeem,
    reward_save,
    voucher_cancel,
)

pytestmark = pytest.mark.django_db

CENT = Decimal("0.01")
RATES = ["1", "0.5", "1.5", "2.25", "0.0333"]
MINIMUMS = ["0", "0", "20.00"]
_receipts = itertools.count(1)


def new_receipt(prefix: str) -> str:
    return f"{prefix}{next(_receipts)}"


def cents(n: int) -> Decimal:
    return (Decimal(n) * CENT).quantize(CENT)


EXACT = Decimal("0.000001")
REAL_NOW = timezone.now()
START = REAL_NOW - dt.timedelta(days=80)  # the simulated clock starts here
EXPIRE_MONTHS = 3
PENDING_DAYS = 14


def floor(value: Decimal) -> int:
    return int(value.to_integral_value(rounding=ROUND_FLOOR))


def line_exact(amount: Decimal, rate: Decimal, multiplier: Decimal) -> Decimal:
    """The program's rule, written again independently of the service: each
    line earns amount × rate × tier multiplier, kept to 6 places."""
    return (amount * rate * multiplier).quantize(EXACT, rounding=ROUND_HALF_EVEN)


@dataclass
class ModelLot:
    seq: int
    purchase: int | None
    remaining: int
    earned_at: dt.datetime
    available_at: dt.datetime
    expires_at: dt.datetime | None


@dataclass
class ModelLine:
    sku: str
    quantity: int
    price: Decimal
    returned: int = 0


@dataclass
class ModelPurchase:
    pk: int
    receipt: str
    total: Decimal
    rate: Decimal
    minimum: Decimal
    earned: int
    exacts: list[Decimal]  # per line; one for a receipt without lines
    lines: list[ModelLine] = field(default_factory=list)
    returned: Decimal = Decimal("0.00")
    reversed: int = 0

    def kept(self) -> int:
        """What the purchase keeps after its returns: each line its kept
        quantity's share, then the share of money kept after returns by amount."""
        kept_total = self.total - self.returned
        if kept_total <= 0 or kept_total < self.minimum:
            return 0
        if self.lines:
            kept_exact = sum(
                (e * (ln.quantity - ln.returned) / ln.quantity)
                for e, ln in zip(self.exacts, self.lines, strict=True)
            )
            value = sum((ln.quantity - ln.returned) * ln.price for ln in self.lines)
        else:
            kept_exact, value = self.exacts[0], self.total
        return floor(kept_exact * kept_total / value) if value else 0

    def return_value(self, value: Decimal) -> int:
        """Record a return of `value`; the points it takes back."""
        self.returned += value
        target = self.earned - self.kept()
        delta = target - self.reversed
        self.reversed = target
        return delta


# --- operations ---------------------------------------------------------------------

line_st = st.tuples(st.integers(1, 5), st.integers(0, 5_000))
purchase_st = st.one_of(
    st.tuples(st.just("buy"), st.integers(1, 60_000)),
    st.tuples(st.just("buy_lines"), st.lists(line_st, min_size=1, max_size=3)),
)
ops_st = st.lists(
    st.one_of(
        purchase_st,
        st.tuples(st.just("return_amount"), st.integers(0, 99), st.integers(1, 40_000)),
        st.tuples(st.just("return_all"), st.integers(0, 99)),
        st.tuples(
            st.just("return_lines"),
            st.integers(0, 99),
            st.integers(0, 2),
            st.integers(1, 4),
        ),
        st.tuples(st.just("redeem"), st.integers(1, 400)),
        st.tuples(st.just("redeem_all")),
        st.tuples(st.just("adjust"), st.integers(1, 300) | st.integers(-300, -1)),
        st.tuples(st.just("replay_purchase"), st.integers(0, 99)),
        st.tuples(st.just("rate"), st.sampled_from(RATES), st.sampled_from(MINIMUMS)),
        st.tuples(st.just("voucher"), st.integers(0, 1)),
        st.tuples(st.just("voucher_cancel"), st.integers(0, 99)),
        st.tuples(st.just("bonus"), st.integers(1, 200)),
        st.tuples(st.just("wait"), st.integers(1, 60)),
        st.tuples(st.just("wait"), st.integers(20, 40)),
        st.tuples(
            st.just("expire"),
        ),
    ),
    max_size=24,
)
# Two rewards: one refunds its points when a voucher is cancelled, one keeps them.
REWARD_COSTS = (60, 15)
# Spend-based tiers (rank, threshold, multiplier): a purchase moves the member up.
TIERS = ((1, Decimal("300"), Decimal("1.25")), (2, Decimal("900"), Decimal("1.5")))


def set_program(rate: str, minimum: str) -> None:
    conf = program_settings_get()
    conf.points_per_unit = Decimal(rate)
    conf.min_purchase = Decimal(minimum)
    conf.points_expire_months = EXPIRE_MONTHS
    conf.pending_days = PENDING_DAYS
    conf.save()


def ledger_state(member) -> tuple[int, int, int]:
    account = PointsAccount.objects.get(member=member)
    agg = LedgerEntry.objects.filter(account=account).aggregate(s=Sum("points"))
    count = LedgerEntry.objects.filter(account=account).count()
    return account.balance, agg["s"] or 0, count


def purchases_state(member) -> list[tuple]:
    return list(
        Purchase.objects.filter(member=member)
        .order_by("pk")
        .values_list("pk", "returned_total", "points_reversed")
    )


class LedgerRun:
    """Runs operations against the services and the model side by side."""

    def __init__(self, store, member, rate: str, minimum: str) -> None:
        self.store = store
        self.member = member
        self.balance = 0
        self.purchases: list[ModelPurchase] = []
        self.rate, self.minimum = Decimal(rate), Decimal(minimum)
        set_program(rate, minimum)
        self.rewards = [
            reward_save(
                reward=Reward(
                    name=f"Reward {cost}",
                    points_cost=cost,
                    refund_points_on_cancel=(i == 0),
                )
            )
            for i, cost in enumerate(REWARD_COSTS)
        ]
        self.vouchers: list[tuple[int, int, bool]] = []  # (pk, cost, refunds)
        self.tiers = [
            Tier.objects.get_or_create(
                rank=rank,
                defaults={
                    "name": f"T{rank}",
                    "threshold": threshold,
                    "earn_multiplier": multiplier,
                },
            )[0]
            for rank, threshold, multiplier in TIERS
        ]
        self.tier: Tier | None = None
        self.open_vouchers: set[int] = set()
        self.clock = START
        self.lots: list[ModelLot] = []
        self.seq = itertools.count()
        self.drawn_expiry: dict[int, dt.datetime | None] = {}  # voucher pk →

    # --- the lots, as the program describes them ---------------------------------

    def credit(self, points, *, purchase=None, pending=False, expires=...) -> None:
        debt = max(-self.balance, 0)
        self.balance += points
        if points - debt <= 0:
            return
        if expires is ...:
            expires = self.clock + relativedelta(months=EXPIRE_MONTHS)
        self.lots.append(
            ModelLot(
                seq=next(self.seq),
                purchase=purchase,
                remaining=points - debt,
                earned_at=self.clock,
                available_at=self.clock
                + dt.timedelta(days=PENDING_DAYS if pending else 0),
                expires_at=expires,
            )
        )

    def spending_order(self, prefer=None) -> list[ModelLot]:
        return sorted(
            (lot for lot in self.lots if lot.remaining),
            key=lambda lot: (
                lot.purchase != prefer if prefer else 0,
                lot.expires_at is None,
                lot.expires_at or REAL_NOW,
                lot.earned_at,
                lot.seq,
            ),
        )

    def debit(self, points, *, prefer=None, spendable=False) -> list[ModelLot]:
        self.balance -= points
        drawn = []
        for lot in self.spending_order(prefer):
            if spendable and lot.available_at > REAL_NOW:
                continue
            take = min(points, lot.remaining)
            lot.remaining -= take
            points -= take
            drawn.append(lot)
            if not points:
                break
        return drawn

    def spendable(self) -> int:
        return sum(lot.remaining for lot in self.lots if lot.available_at <= REAL_NOW)

    # Each op returns normally when the service succeeded as the model says,
    # or raises what the model expected; `refused` wraps the expected refusals.

    def refused(self, exc_type, call) -> None:
        before = (ledger_state(self.member), purchases_state(self.member))
        with pytest.raises(exc_type) as exc:
            call()
        event(f"refused with {type(exc.value).__name__}")
        assert (ledger_state(self.member), purchases_state(self.member)) == before

    def pick(self, index: int) -> ModelPurchase | None:
        return self.purchases[index % len(self.purchases)] if self.purchases else None

    def op_rate(self, rate: str, minimum: str) -> None:
        set_program(rate, minimum)
        self.rate, self.minimum = Decimal(rate), Decimal(minimum)

    def op_buy(self, amount_cents: int) -> None:
        self._buy(total=cents(amount_cents), lines=[])

    def op_buy_lines(self, raw_lines: list[tuple[int, int]]) -> None:
        lines = [
            ModelLine(sku=f"SKU{i}", quantity=q, price=cents(p))
            for i, (q, p) in enumerate(raw_lines)
        ]
        self._buy(
            total=sum((ln.quantity * ln.price for ln in lines), CENT * 0), lines=lines
        )

    def _buy(self, *, total: Decimal, lines: list[ModelLine]) -> None:
        receipt = new_receipt("R")
        kwargs = {
            "store": self.store,
            "member": self.member,
            "receipt_id": receipt,
            "total": None if lines else total,
            "lines": [
                LineInput(
                    sku=ln.sku, quantity=Decimal(ln.quantity), unit_price=ln.price
                )
                for ln in lines
            ],
        }
        if total <= 0:
            self.refused(InvalidInput, lambda: purchase_record(**kwargs))
            return
        purchase, replayed = purchase_record(**kwargs, recorded_at=self.clock)
        assert not replayed
        multiplier = self.tier.earn_multiplier if self.tier else Decimal(1)
        rate = (self.rate * multiplier).quantize(
            Decimal("0.0001"), rounding=ROUND_FLOOR
        )
        amounts = [ln.quantity * ln.price for ln in lines] or [total]
        exacts = [
            line_exact(a, self.rate, multiplier) if total >= self.minimum else EXACT * 0
            for a in amounts
        ]
        earned = floor(sum(exacts, Decimal(0)))
        assert purchase.total == total
        assert purchase.points_per_unit == rate
        assert purchase.points_earned == earned
        if earned:
            self.credit(earned, purchase=purchase.pk, pending=True)
        self.purchases.append(
            ModelPurchase(
                pk=purchase.pk,
                receipt=receipt,
                total=total,
                rate=rate,
                minimum=self.minimum,
                earned=earned,
                exacts=exacts,
                lines=lines,
            )
        )

        kept = sum((p.total - p.returned for p in self.purchases), Decimal("0"))
        for tier in self.tiers:  # up only, to the highest reached, at purchase time
            if kept >= tier.threshold and (
                self.tier is None or tier.rank > self.tier.rank
            ):
                self.tier = tier

    def op_replay_purchase(self, index: int) -> None:
        mp = self.pick(index)
        if mp is None:
            return
        body = {
            "store": self.store,
            "member": self.member,
            "receipt_id": mp.receipt,
            "total": mp.total,
            "lines": [
                LineInput(
                    sku=ln.sku, quantity=Decimal(ln.quantity), unit_price=ln.price
                )
                for ln in mp.lines
            ],
        }
        before = ledger_state(self.member)
        purchase, replayed = purchase_record(**body)
        assert replayed and purchase.pk == mp.pk
        assert ledger_state(self.member) == before
        other = {**body, "total": mp.total + 1, "lines": []}
        self.refused(Conflict, lambda: purchase_record(**other))

    def _return_call(self, mp: ModelPurchase, **how):
        return purchase_return_record(
            purchase=Purchase.objects.get(pk=mp.pk),
            store=self.store,
            receipt_id=new_receipt("RET"),
            recorded_at=self.clock,
            **how,
        )

    def _return(self, mp: ModelPurchase, value: Decimal, **how) -> bool:
        def call():
            return self._return_call(mp, **how)

        if value <= 0 or value > mp.total - mp.returned:
            self.refused(InvalidInput, call)
            return False
        ret, replayed = call()
        assert not replayed
        assert ret.amount == value
        delta = mp.return_value(value)
        assert ret.points_reversed == delta >= 0
        if delta:
            self.debit(delta, prefer=mp.pk)
        assert ret.balance_after == self.balance
        return True

    def op_return_amount(self, index: int, amount_cents: int) -> None:
        mp = self.pick(index)
        if mp is not None:
            self._return(mp, cents(amount_cents), amount=cents(amount_cents))

    def op_return_all(self, index: int) -> None:
        mp = self.pick(index)
        if mp is None:
            return
        left = mp.total - mp.returned
        if left <= 0:
            self.refused(
                InvalidInput,
                lambda: self._return_call(mp, amount=CENT),
            )
            return
        self._return(mp, left, amount=left)
        assert mp.reversed == mp.earned

    def op_return_lines(self, index: int, line_index: int, quantity: int) -> None:
        mp = self.pick(index)
        if mp is None or not mp.lines:
            return
        line = mp.lines[line_index % len(mp.lines)]
        how = {"lines": [ReturnLineInput(sku=line.sku, quantity=Decimal(quantity))]}
        if quantity > line.quantity - line.returned:
            self.refused(
                InvalidInput,
                lambda: self._return_call(mp, **how),
            )
            return
        if self._return(mp, quantity * line.price, **how):
            line.returned += quantity

    def op_redeem(self, points: int) -> None:
        call = partial(
            points_redeem,
            member=self.member,
            store=self.store,
            points=points,
            receipt_id=new_receipt("S"),
            recorded_at=self.clock,
        )
        if self.spendable() < points:
            if self.balance >= points:
                event("refused: points still pending")
            self.refused(Conflict, call)
            return
        redemption, _replayed = call()
        self.debit(points, spendable=True)
        assert redemption.balance_after == self.balance >= 0

    def op_redeem_all(self) -> None:
        # Spending everything makes a later return push the balance into debt.
        if self.spendable() > 0:
            self.op_redeem(self.spendable())

    def op_adjust(self, points: int) -> None:
        call = partial(
            points_adjust,
            member=self.member,
            points=points,
            reason="property test",
            created_by=None,
            recorded_at=self.clock,
        )
        if points < 0 and self.balance + points < 0:
            self.refused(Conflict, call)
            return
        call()
        if points > 0:
            self.credit(points)
        else:
            self.debit(-points)

    def op_voucher(self, which: int) -> None:
        reward = self.rewards[which]
        call = partial(
            reward_redeem,
            member=self.member,
            reward=reward,
            idempotency_key=new_receipt("V"),
            recorded_at=self.clock,
        )
        if self.spendable() < reward.points_cost:
            self.refused(Conflict, call)
            return
        voucher, replayed = call()
        assert not replayed and voucher.points_spent == reward.points_cost
        drawn = self.debit(reward.points_cost, spendable=True)
        expiries = [lot.expires_at for lot in drawn if lot.expires_at]
        self.drawn_expiry[voucher.pk] = min(expiries) if expiries else None
        self.vouchers.append((voucher.pk, reward.points_cost, which == 0))
        event("voucher issued")
        self.open_vouchers.add(voucher.pk)

    def op_voucher_cancel(self, index: int) -> None:
        if not self.vouchers:
            return
        pk, cost, refunds = self.vouchers[index % len(self.vouchers)]
        voucher_cancel(
            voucher=Voucher.objects.get(pk=pk), by=None, recorded_at=self.clock
        )
        if pk in self.open_vouchers:  # a second cancel gives nothing back again
            self.open_vouchers.discard(pk)
            if refunds:  # with the expiry the points had
                self.credit(cost, expires=self.drawn_expiry[pk])

    def op_bonus(self, points: int) -> None:
        points_bonus_grant(
            member=self.member,
            points=points,
            reason="property test",
            idempotency_key=new_receipt("B"),
            recorded_at=self.clock,
        )
        self.credit(points)

    def op_wait(self, days: int) -> None:
        self.clock += dt.timedelta(days=days)

    def op_expire(self) -> None:
        expected = 0
        for lot in self.lots:
            if lot.remaining and lot.expires_at and lot.expires_at <= self.clock:
                expected += 1
                self.balance -= lot.remaining
                lot.remaining = 0
        if expected:
            event("points expired")
        # The job is global (earlier examples' members share the database): the
        # lots compared in check() tell what it did to this member.
        assert points_expire_due(now=self.clock) >= expected
        assert points_expire_due(now=self.clock) == 0  # a second run: nothing

    def check(self) -> None:
        balance, entries, _count = ledger_state(self.member)
        assert balance == entries == self.balance
        lots = list(
            PointsLot.objects.filter(account__member=self.member)
            .order_by("pk")
            .values_list("remaining", "available_at", "expires_at")
        )
        assert lots == [
            (lot.remaining, lot.available_at, lot.expires_at) for lot in self.lots
        ]
        assert sum(r for r, _a, _e in lots) == max(balance, 0)
        assert not ledger_invariant_violations()
        tier_id = PointsAccount.objects.values_list("tier_id", flat=True).get(
            member=self.member
        )
        assert tier_id == (self.tier.pk if self.tier else None)
        if balance < 0:
            event("balance in debt")
        rows = {
            p.pk: p
            for p in Purchase.objects.filter(member=self.member).prefetch_related(
                "returns", "lines"
            )
        }
        assert set(rows) == {mp.pk for mp in self.purchases}
        for mp in self.purchases:
            p = rows[mp.pk]
            assert p.returned_total == mp.returned <= p.total
            assert p.points_earned == mp.earned
            taken_back = sum(r.points_reversed for r in p.returns.all())
            assert taken_back == p.points_reversed == mp.reversed <= p.points_earned
            if p.returned_total == p.total:
                assert taken_back == p.points_earned
            returned_by_sku = {ln.sku: ln.returned for ln in mp.lines}
            for line in p.lines.all():
                assert line.quantity_returned == returned_by_sku[line.sku]
        statuses = dict(
            Voucher.objects.filter(member=self.member).values_list("pk", "status")
        )
        for pk, _cost, _refunds in self.vouchers:
            open_ = pk in self.open_vouchers
            assert (statuses[pk] == VoucherStatus.ISSUED) == open_


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(ops=ops_st, rate=st.sampled_from(RATES), minimum=st.sampled_from(MINIMUMS))
@example(  # pending points refused, lots expire, a refund keeps its old expiry
    ops=[
        ("buy", 10_000),
        ("wait", 40),
        ("buy", 5_000),
        ("voucher", 0),  # from the first, soonest-expiring lot
        ("wait", 40),
        ("buy", 20_000),  # pending now
        ("redeem", 150),  # 90 spendable, 290 in all
        ("bonus", 50),
        ("wait", 20),
        ("expire",),  # what is left of the first lot
        ("voucher_cancel", 0),  # its 60 points come back already expired
        ("expire",),
        ("return_all", 2),
    ],
    rate="1",
    minimum="0",
)
@example(  # spend, return, owe, earn the debt back
    ops=[
        ("buy", 10_000),
        ("redeem_all",),
        ("return_all", 0),
        ("redeem", 1),
        ("adjust", 5),
        ("adjust", -1),
        ("buy_lines", [(2, 3_000), (1, 0)]),
        ("return_lines", 1, 1, 1),
        ("return_lines", 1, 0, 1),
        ("rate", "2.25", "20.00"),
        ("return_amount", 1, 3_000),
        ("buy", 30_000),
        ("buy", 100),  # at the top tier's rate
        ("return_amount", 3, 50),
        ("voucher", 0),
        ("voucher", 1),
        ("voucher_cancel", 0),
        ("voucher_cancel", 0),
        ("voucher_cancel", 1),
    ],
    rate="1",
    minimum="0",
)
def test_ledger_matches_the_model(store, ops, rate, minimum):
    with translation.override("en"):
        run = LedgerRun(store, MemberFactory(store=store), rate, minimum)
        for op, *args in ops:
            getattr(run, f"op_{op}")(*args)
            event(op)
            run.check()
