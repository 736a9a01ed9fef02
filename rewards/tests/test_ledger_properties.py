"""Property test of the points ledger against a plain-Python model of it.

Any sequence of purchases, returns, redemptions, adjustments, rate changes and
reward vouchers (redeemed, cancelled with or without a refund, cancelled twice),
with tier upgrades changing the earning rate on the way, valid or not, must keep the member's balance equal to the sum of the ledger
entries and to the model's balance; a refused operation changes nothing.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from decimal import ROUND_FLOOR, Decimal
from functools import partial

import pytest
from django.db.models import Sum
from django.utils import translation
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from members.errors import Conflict, InvalidInput
from members.tests.factories import MemberFactory
from rewards.models import (
    LedgerEntry,
    PointsAccount,
    Purchase,
    Reward,
    Tier,
    Voucher,
    VoucherStatus,
)
from rewards.selectors import program_settings_get
from rewards.services import (
    LineInput,
    ReturnLineInput,
    points_adjust,
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


def earned_for(amount: Decimal, rate: Decimal, minimum: Decimal) -> int:
    """The program's rule, written again independently of the service."""
    if amount <= 0 or amount < minimum:
        return 0
    return int((amount * rate).to_integral_value(rounding=ROUND_FLOOR))


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
    lines: list[ModelLine] = field(default_factory=list)
    returned: Decimal = Decimal("0.00")
    reversed: int = 0

    def return_value(self, value: Decimal) -> int:
        """Record a return of `value`; the points it takes back."""
        self.returned += value
        target = self.earned - earned_for(
            self.total - self.returned, self.rate, self.minimum
        )
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
    ),
    max_size=20,
)
# Two rewards: one refunds its points when a voucher is cancelled, one keeps them.
REWARD_COSTS = (60, 15)
# Spend-based tiers (rank, threshold, multiplier): a purchase moves the member up.
TIERS = ((1, Decimal("300"), Decimal("1.25")), (2, Decimal("900"), Decimal("1.5")))


def set_program(rate: str, minimum: str) -> None:
    conf = program_settings_get()
    conf.points_per_unit = Decimal(rate)
    conf.min_purchase = Decimal(minimum)
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
        purchase, replayed = purchase_record(**kwargs)
        assert not replayed
        rate = self.rate
        if self.tier is not None:
            rate = (rate * self.tier.earn_multiplier).quantize(
                Decimal("0.0001"), rounding=ROUND_FLOOR
            )
        earned = earned_for(total, rate, self.minimum)
        assert purchase.total == total
        assert purchase.points_per_unit == rate
        assert purchase.points_earned == earned
        self.balance += earned
        self.purchases.append(
            ModelPurchase(
                pk=purchase.pk,
                receipt=receipt,
                total=total,
                rate=rate,
                minimum=self.minimum,
                earned=earned,
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
        self.balance -= delta
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
        )
        if self.balance < points:
            self.refused(Conflict, call)
            return
        redemption, _replayed = call()
        self.balance -= points
        assert redemption.balance_after == self.balance >= 0

    def op_redeem_all(self) -> None:
        # Spending everything makes a later return push the balance into debt.
        if self.balance > 0:
            self.op_redeem(self.balance)

    def op_adjust(self, points: int) -> None:
        call = partial(
            points_adjust,
            member=self.member,
            points=points,
            reason="property test",
            created_by=None,
        )
        if points < 0 and self.balance + points < 0:
            self.refused(Conflict, call)
            return
        call()
        self.balance += points

    def op_voucher(self, which: int) -> None:
        reward = self.rewards[which]
        call = partial(
            reward_redeem,
            member=self.member,
            reward=reward,
            idempotency_key=new_receipt("V"),
        )
        if self.balance < reward.points_cost:
            self.refused(Conflict, call)
            return
        voucher, replayed = call()
        assert not replayed and voucher.points_spent == reward.points_cost
        self.balance -= reward.points_cost
        self.vouchers.append((voucher.pk, reward.points_cost, which == 0))
        event("voucher issued")
        self.open_vouchers.add(voucher.pk)

    def op_voucher_cancel(self, index: int) -> None:
        if not self.vouchers:
            return
        pk, cost, refunds = self.vouchers[index % len(self.vouchers)]
        voucher_cancel(voucher=Voucher.objects.get(pk=pk), by=None)
        if pk in self.open_vouchers:  # a second cancel gives nothing back again
            self.open_vouchers.discard(pk)
            if refunds:
                self.balance += cost

    def check(self) -> None:
        balance, entries, _count = ledger_state(self.member)
        assert balance == entries == self.balance
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
