"""The money paths of the points ledger: earning, returns, redemptions, adjustments."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone, translation

from members.errors import Conflict, InvalidInput
from members.tests.factories import MemberFactory
from rewards.models import (
    AppendOnlyError,
    LedgerEntry,
    LedgerKind,
    PointsAccount,
    Purchase,
    PurchaseReturn,
    Redemption,
)
from rewards.selectors.ledger import member_balance_get
from rewards.selectors.program import program_settings_get
from rewards.services import (
    LineInput,
    ReturnLineInput,
    points_adjust,
    points_redeem,
    purchase_record,
    purchase_return_record,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


@pytest.fixture
def program(db):
    """Program settings at known values: 1 point per unit, no minimum, 0.10 a point."""
    conf = program_settings_get()
    conf.points_per_unit = Decimal("1")
    conf.min_purchase = Decimal("0")
    conf.point_value = Decimal("0.10")
    conf.save()
    return conf


def set_program(**values) -> None:
    conf = program_settings_get()
    for name, value in values.items():
        setattr(conf, name, Decimal(value))
    conf.save()


def balance(member) -> int:
    return member_balance_get(member_id=member.pk)


def entries_sum(member) -> int:
    return (
        LedgerEntry.objects.filter(account__member=member).aggregate(s=Sum("points"))[
            "s"
        ]
        or 0
    )


def assert_ledger_consistent(member) -> None:
    assert balance(member) == entries_sum(member)


def buy(store, member, receipt, total=None, lines=None, **kwargs) -> Purchase:
    purchase, replayed = purchase_record(
        store=store,
        member=member,
        receipt_id=receipt,
        total=total,
        lines=lines,
        **kwargs,
    )
    assert replayed is False
    return purchase


def give_back(purchase, store, receipt, amount=None, lines=None) -> PurchaseReturn:
    ret, replayed = purchase_return_record(
        purchase=purchase, store=store, receipt_id=receipt, amount=amount, lines=lines
    )
    assert replayed is False
    return ret


# --- earning --------------------------------------------------------------------------


class TestEarning:
    def test_purchase_earns_points_at_the_rate(self, program, store, member):
        purchase = buy(store, member, "R1", "125.00")

        assert purchase.points_earned == 125
        assert purchase.balance_after == 125
        assert balance(member) == 125
        entry = LedgerEntry.objects.get(purchase=purchase)
        assert (entry.kind, entry.points, entry.balance_after) == (
            LedgerKind.EARN,
            125,
            125,
        )
        assert_ledger_consistent(member)

    @pytest.mark.parametrize(
        ("rate", "total", "points"),
        [
            ("1", "125.99", 125),
            ("0.5", "99.99", 49),
            ("1.5", "99.99", 149),  # 149.985
            ("0.0333", "29.99", 0),  # 0.998667
            ("3", "0.33", 0),  # 0.99
        ],
    )
    def test_purchase_points_are_rounded_down(
        self, program, store, member, rate, total, points
    ):
        set_program(points_per_unit=rate)

        purchase = buy(store, member, "R1", total)

        assert purchase.points_earned == points
        assert balance(member) == points
        assert_ledger_consistent(member)

    def test_purchase_below_minimum_earns_nothing(self, program, store, member):
        set_program(min_purchase="50.00")

        small = buy(store, member, "R1", "49.99")
        exact = buy(store, member, "R2", "50.00")

        assert small.points_earned == 0
        assert not LedgerEntry.objects.filter(purchase=small).exists()
        assert exact.points_earned == 50
        assert balance(member) == 50
        assert_ledger_consistent(member)

    def test_purchase_keeps_the_rate_it_was_earned_at(self, program, store, member):
        set_program(points_per_unit="2", min_purchase="10")
        purchase = buy(store, member, "R1", "100.00")
        set_program(points_per_unit="1", min_purchase="0")

        purchase.refresh_from_db()
        assert purchase.points_per_unit == Decimal("2")
        assert purchase.min_purchase == Decimal("10")
        ret = give_back(purchase, store, "RET1", amount="50.00")

        # At the rate of the day it was bought: 100 of the 200 points go back.
        assert ret.points_reversed == 100
        assert balance(member) == 100
        assert_ledger_consistent(member)

    def test_return_below_the_snapshot_minimum_takes_back_everything(
        self, program, store, member
    ):
        set_program(min_purchase="50")
        purchase = buy(store, member, "R1", "100.00")
        set_program(min_purchase="0")

        ret = give_back(purchase, store, "RET1", amount="60.00")

        # The 40.00 kept is below the minimum the purchase was made under.
        assert ret.points_reversed == 100
        assert balance(member) == 0

    def test_purchase_rejects_a_future_time(self, program, store, member):
        with pytest.raises(
            InvalidInput, match=r"^The time of purchase is in the future\.$"
        ):
            purchase_record(
                store=store,
                member=member,
                receipt_id="R1",
                total="10",
                occurred_at=timezone.now() + dt.timedelta(hours=1),
            )

    @pytest.mark.parametrize(
        ("total", "message"),
        [
            ("0", r"^The amount must be greater than zero\.$"),
            ("-5", r"^The amount must be greater than zero\.$"),
            ("10.005", r"^Use at most two decimal places\.$"),
            ("ten", r"^Enter an amount such as 125\.50\.$"),
            ("NaN", r"^Enter an amount such as 125\.50\.$"),
            ("99999999999", r"^The amount is too large\.$"),
            # Typed text is plain digits (members.numbers): no exponents.
            ("1e999", r"^Enter an amount such as 125\.50\.$"),
            ("-1e999", r"^Enter an amount such as 125\.50\.$"),
            ("1e3", r"^Enter an amount such as 125\.50\.$"),
            ("١٠٠", r"^Enter an amount such as 125\.50\.$"),
            ("Infinity", r"^Enter an amount such as 125\.50\.$"),
        ],
    )
    def test_purchase_rejects_bad_totals(self, program, store, member, total, message):
        with pytest.raises(InvalidInput, match=message) as exc:
            purchase_record(store=store, member=member, receipt_id="R1", total=total)

        assert exc.value.field == "total"
        assert not Purchase.objects.exists()

    def test_purchase_earning_more_than_max_points_is_refused(
        self, program, store, member
    ):
        with pytest.raises(
            InvalidInput,
            match=r"^This purchase would earn 9999999999 points, more than the "
            r"1000000000 allowed at once\.$",
        ) as exc:
            purchase_record(
                store=store, member=member, receipt_id="R1", total="9999999999.99"
            )

        assert exc.value.field == "total"
        assert balance(member) == 0

    def test_balance_cannot_pass_what_the_column_holds(self, program, store, member):
        set_program(points_per_unit="100")
        buy(store, member, "R1", "10000000.00")  # 10⁹ points
        buy(store, member, "R2", "10000000.00")

        with pytest.raises(
            Conflict, match=r"^The balance would exceed 2,147,483,647 points\.$"
        ):
            purchase_record(
                store=store, member=member, receipt_id="R3", total="10000000.00"
            )
        with pytest.raises(
            Conflict, match=r"^The balance would exceed 2,147,483,647 points\.$"
        ):
            points_adjust(
                member=member, points=10**9, reason="Too much", created_by=None
            )

        assert balance(member) == 2 * 10**9
        assert Purchase.objects.count() == 2
        assert_ledger_consistent(member)

    def test_purchase_rejects_an_empty_receipt_id(self, program, store, member):
        with pytest.raises(InvalidInput, match=r"^Enter the receipt id\.$"):
            purchase_record(store=store, member=member, receipt_id="  ", total="10")


# --- lines ----------------------------------------------------------------------------

LINES = [
    LineInput(sku="A", quantity=Decimal("3"), unit_price=Decimal("10.00")),
    LineInput(sku="B", quantity=Decimal("1"), unit_price=Decimal("5.50")),
]


class TestLines:
    def test_total_must_equal_the_sum_of_the_lines(self, program, store, member):
        with pytest.raises(
            InvalidInput,
            match=r"^The total 36\.00 does not equal the sum of the lines, 35\.50\.$",
        ) as exc:
            purchase_record(
                store=store, member=member, receipt_id="R1", total="36", lines=LINES
            )

        assert exc.value.field == "total"
        assert not Purchase.objects.exists()
        assert balance(member) == 0

    def test_total_is_derived_from_the_lines(self, program, store, member):
        purchase = buy(store, member, "R1", lines=LINES)

        assert purchase.total == Decimal("35.50")
        assert purchase.points_earned == 35
        assert sorted(
            purchase.lines.values_list("sku", "quantity", "unit_price", "amount")
        ) == [
            ("A", Decimal("3.000"), Decimal("10.00"), Decimal("30.00")),
            ("B", Decimal("1.000"), Decimal("5.50"), Decimal("5.50")),
        ]

    def test_lines_as_dicts_with_a_matching_total(self, program, store, member):
        lines = [{"sku": "A", "quantity": "0.5", "unit_price": "3.33", "name": "Tea"}]

        purchase = buy(store, member, "R1", total="1.67", lines=lines)

        assert purchase.lines.get().amount == Decimal("1.67")  # 1.665 half up

    def test_no_total_and_no_lines_is_refused(self, program, store, member):
        with pytest.raises(InvalidInput, match=r"^Enter the total\.$"):
            purchase_record(store=store, member=member, receipt_id="R1")

    def test_line_without_sku_is_refused(self, program, store, member):
        with pytest.raises(InvalidInput, match=r"^Enter the SKU\.$") as exc:
            purchase_record(
                store=store,
                member=member,
                receipt_id="R1",
                lines=[{"sku": " ", "quantity": 1, "unit_price": "1"}],
            )
        assert exc.value.field == "lines[0].sku"


# --- idempotency of purchases ----------------------------------------------------------


class TestPurchaseReplay:
    def test_same_body_returns_the_same_purchase(self, program, store, member):
        first = buy(store, member, "R1", lines=LINES)

        again, replayed = purchase_record(
            store=store, member=member, receipt_id="R1", total="35.5", lines=LINES
        )

        assert replayed is True
        assert again.pk == first.pk
        assert Purchase.objects.count() == 1
        assert LedgerEntry.objects.count() == 1
        assert balance(member) == 35

    def test_different_body_is_a_conflict(self, program, store, member):
        buy(store, member, "R1", "100.00")

        with pytest.raises(
            Conflict,
            match=r"^Receipt R1 was already recorded at this store with other details\.$",
        ) as exc:
            purchase_record(store=store, member=member, receipt_id="R1", total="100.01")

        assert exc.value.status == 409
        assert exc.value.field == "receipt_id"
        assert balance(member) == 100

    def test_same_receipt_for_another_member_is_a_conflict(
        self, program, store, member
    ):
        buy(store, member, "R1", "100.00")
        other = MemberFactory(store=store)

        with pytest.raises(Conflict, match=r"^Receipt R1 was already recorded"):
            purchase_record(store=store, member=other, receipt_id="R1", total="100.00")

        assert balance(other) == 0

    def test_same_receipt_id_at_another_store_is_another_purchase(
        self, program, store, other_store, member
    ):
        buy(store, member, "R1", "100.00")
        buy(other_store, member, "R1", "100.00")

        assert balance(member) == 200


# --- returns ---------------------------------------------------------------------------


class TestReturnByAmount:
    def test_partial_return_claws_back_what_the_returned_part_earned(
        self, program, store, member
    ):
        purchase = buy(store, member, "R1", "100.00")

        ret = give_back(purchase, store, "RET1", amount="30.00")

        assert ret.points_reversed == 30
        assert ret.balance_after == 70
        purchase.refresh_from_db()
        assert purchase.returned_total == Decimal("30.00")
        assert purchase.points_reversed == 30
        entry = LedgerEntry.objects.get(purchase_return=ret)
        assert (entry.kind, entry.points, entry.balance_after) == (
            LedgerKind.CLAWBACK,
            -30,
            70,
        )
        assert_ledger_consistent(member)

    def test_several_partial_returns_take_back_exactly_what_was_earned(
        self, program, store, member
    ):
        purchase = buy(store, member, "R1", "10.99")  # 10 points

        reversed_ = [
            give_back(purchase, store, f"RET{i}", amount=amount).points_reversed
            for i, amount in enumerate(["3.33", "3.33", "4.33"])
        ]

        # Kept 7.66 → 7, 4.33 → 4, 0 → 0 points.
        assert reversed_ == [3, 3, 4]
        purchase.refresh_from_db()
        assert purchase.points_reversed == purchase.points_earned == 10
        assert purchase.returned_total == purchase.total
        assert balance(member) == 0
        assert_ledger_consistent(member)

    def test_return_that_keeps_the_points_writes_no_entry(self, program, store, member):
        purchase = buy(store, member, "R1", "100.50")  # 100 points

        ret = give_back(purchase, store, "RET1", amount="0.50")

        assert ret.points_reversed == 0
        assert not LedgerEntry.objects.filter(purchase_return=ret).exists()
        assert balance(member) == 100

    def test_full_return_takes_back_all_points_and_never_more(
        self, program, store, member
    ):
        set_program(points_per_unit="1.5")
        purchase = buy(store, member, "R1", "99.99")  # 149 points
        give_back(purchase, store, "RET1", amount="0.01")

        give_back(purchase, store, "RET2", amount="99.98")

        purchase.refresh_from_db()
        assert purchase.points_reversed == 149
        assert sum(purchase.returns.values_list("points_reversed", flat=True)) == 149
        assert balance(member) == 0
        with pytest.raises(
            InvalidInput,
            match=r"^You cannot return 0\.01: only 0\.00 of this purchase is left to return\.$",
        ):
            purchase_return_record(
                purchase=purchase, store=store, receipt_id="RET3", amount="0.01"
            )
        assert balance(member) == 0

    def test_return_of_more_than_was_bought_is_refused(self, program, store, member):
        purchase = buy(store, member, "R1", "100.00")

        with pytest.raises(
            InvalidInput,
            match=r"^You cannot return 100\.01: only 100\.00 of this purchase is left to return\.$",
        ) as exc:
            purchase_return_record(
                purchase=purchase, store=store, receipt_id="RET1", amount="100.01"
            )

        assert exc.value.field == "amount"
        assert not PurchaseReturn.objects.exists()
        assert balance(member) == 100

    def test_return_at_another_store(self, program, store, other_store, member):
        purchase = buy(store, member, "R1", "100.00")

        ret = give_back(purchase, other_store, "RET1", amount="100.00")

        assert ret.points_reversed == 100
        assert balance(member) == 0

    def test_amount_and_lines_together_are_refused(self, program, store, member):
        purchase = buy(store, member, "R1", lines=LINES)
        message = r"^Give either an amount or lines to return, not both\.$"

        with pytest.raises(InvalidInput, match=message):
            purchase_return_record(
                purchase=purchase,
                store=store,
                receipt_id="RET1",
                amount="10",
                lines=[ReturnLineInput(sku="A", quantity=Decimal("1"))],
            )
        with pytest.raises(InvalidInput, match=message):
            purchase_return_record(purchase=purchase, store=store, receipt_id="RET1")


class TestReturnReplay:
    def test_same_body_returns_the_same_return(self, program, store, member):
        purchase = buy(store, member, "R1", "100.00")
        first = give_back(purchase, store, "RET1", amount="40.00")

        again, replayed = purchase_return_record(
            purchase=purchase, store=store, receipt_id="RET1", amount="40"
        )

        assert replayed is True
        assert again.pk == first.pk
        assert balance(member) == 60
        purchase.refresh_from_db()
        assert purchase.returned_total == Decimal("40.00")

    def test_different_body_is_a_conflict(self, program, store, member):
        purchase = buy(store, member, "R1", "100.00")
        give_back(purchase, store, "RET1", amount="40.00")

        with pytest.raises(
            Conflict,
            match=r"^Return receipt RET1 was already recorded at this store with other details\.$",
        ):
            purchase_return_record(
                purchase=purchase, store=store, receipt_id="RET1", amount="41.00"
            )

        assert balance(member) == 60


class TestReturnByLines:
    def test_partial_then_full_return_by_lines(self, program, store, member):
        purchase = buy(store, member, "R1", lines=LINES)  # 35.50 → 35 points

        first = give_back(
            purchase, store, "RET1", lines=[ReturnLineInput("A", Decimal("1"))]
        )
        second = give_back(
            purchase,
            store,
            "RET2",
            lines=[{"sku": "A", "quantity": "2"}, {"sku": "B", "quantity": 1}],
        )

        assert (first.amount, first.points_reversed) == (Decimal("10.00"), 10)
        assert (second.amount, second.points_reversed) == (Decimal("25.50"), 25)
        assert first.lines == [{"sku": "A", "quantity": "1.000"}]
        purchase.refresh_from_db()
        assert purchase.returned_total == purchase.total
        assert purchase.points_reversed == purchase.points_earned == 35
        assert dict(purchase.lines.values_list("sku", "quantity_returned")) == {
            "A": Decimal("3.000"),
            "B": Decimal("1.000"),
        }
        assert balance(member) == 0
        assert_ledger_consistent(member)

    @pytest.mark.parametrize(
        ("quantity", "unit_price", "piece", "amounts"),
        [
            # 0.9 × 1.15 = 1.035 → 1.04, but each 0.3 alone is 0.345 → 0.35.
            ("0.9", "1.15", "0.3", ["0.35", "0.34", "0.35"]),
            # 0.5 × 3.33 = 1.665 → 1.67, but each 0.25 alone is 0.8325 → 0.83.
            ("0.5", "3.33", "0.25", ["0.83", "0.84"]),
        ],
    )
    def test_partial_quantities_add_up_to_the_line_amount(
        self, program, store, member, quantity, unit_price, piece, amounts
    ):
        set_program(points_per_unit="100")
        line = LineInput(
            sku="CHEESE", quantity=Decimal(quantity), unit_price=unit_price
        )
        purchase = buy(store, member, "R1", lines=[line])

        returned = [
            give_back(
                purchase, store, f"RET{i}", lines=[ReturnLineInput("CHEESE", piece)]
            ).amount
            for i in range(len(amounts))
        ]

        assert returned == [Decimal(a) for a in amounts]
        purchase.refresh_from_db()
        assert purchase.returned_total == purchase.total
        assert purchase.points_reversed == purchase.points_earned
        assert balance(member) == 0

    def test_line_quantity_over_what_is_left_is_refused(self, program, store, member):
        purchase = buy(store, member, "R1", lines=LINES)
        give_back(purchase, store, "RET1", lines=[ReturnLineInput("A", Decimal("1"))])

        with pytest.raises(
            InvalidInput,
            match=r"^You cannot return 3 of A: only 2 left to return\.$",
        ) as exc:
            purchase_return_record(
                purchase=purchase,
                store=store,
                receipt_id="RET2",
                lines=[ReturnLineInput("B", Decimal("1")), ReturnLineInput("A", 3)],
            )

        assert exc.value.field == "lines[1].quantity"
        # Nothing of the refused return stuck, not even line B.
        assert dict(purchase.lines.values_list("sku", "quantity_returned")) == {
            "A": Decimal("1.000"),
            "B": Decimal("0.000"),
        }
        assert balance(member) == 25

    def test_quantities_are_shown_as_people_write_them(self, program, store, member):
        purchase = buy(
            store,
            member,
            "R1",
            lines=[
                LineInput(sku="EGG", quantity=Decimal("10"), unit_price=Decimal("1"))
            ],
        )

        with pytest.raises(
            InvalidInput,
            match=r"^You cannot return 20 of EGG: only 10 left to return\.$",
        ):
            purchase_return_record(
                purchase=purchase,
                store=store,
                receipt_id="RET1",
                lines=[ReturnLineInput("EGG", Decimal("20"))],
            )

    @pytest.mark.parametrize(
        ("quantity", "message"),
        [
            ("1e999", r"^Enter a quantity\.$"),
            ("99999999", r"^The quantity is too large\.$"),
            ("0", r"^The quantity must be greater than zero\.$"),
            ("-1", r"^The quantity must be greater than zero\.$"),
            ("NaN", r"^Enter a quantity\.$"),
            ("lots", r"^Enter a quantity\.$"),
        ],
    )
    def test_bad_return_quantities_are_refused(
        self, program, store, member, quantity, message
    ):
        purchase = buy(store, member, "R1", lines=LINES)

        with pytest.raises(InvalidInput, match=message) as exc:
            purchase_return_record(
                purchase=purchase,
                store=store,
                receipt_id="RET1",
                lines=[{"sku": "A", "quantity": quantity}],
            )

        assert exc.value.field == "lines[0].quantity"

    def test_unknown_sku_is_refused(self, program, store, member):
        purchase = buy(store, member, "R1", lines=LINES)

        with pytest.raises(InvalidInput, match=r"^SKU Z is not on this receipt\.$"):
            purchase_return_record(
                purchase=purchase,
                store=store,
                receipt_id="RET1",
                lines=[ReturnLineInput("Z", Decimal("1"))],
            )

    def test_same_sku_twice_in_one_return_counts_both(self, program, store, member):
        purchase = buy(store, member, "R1", lines=LINES)

        with pytest.raises(
            InvalidInput, match=r"^You cannot return 2 of A: only 1 left to return\.$"
        ):
            purchase_return_record(
                purchase=purchase,
                store=store,
                receipt_id="RET1",
                lines=[ReturnLineInput("A", 2), ReturnLineInput("A", 2)],
            )

    def test_lines_after_a_full_return_by_amount_are_refused(
        self, program, store, member
    ):
        purchase = buy(store, member, "R1", lines=LINES)
        give_back(purchase, store, "RET1", amount="35.50")

        with pytest.raises(
            InvalidInput,
            match=r"^You cannot return 10\.00: only 0\.00 of this purchase is left to return\.$",
        ):
            purchase_return_record(
                purchase=purchase,
                store=store,
                receipt_id="RET2",
                lines=[ReturnLineInput("A", 1)],
            )

        assert PurchaseReturn.objects.count() == 1
        assert balance(member) == 0

    def test_lines_worth_more_than_is_left_are_refused(self, program, store, member):
        purchase = buy(store, member, "R1", lines=LINES)
        give_back(purchase, store, "RET1", amount="30.00")

        with pytest.raises(
            InvalidInput,
            match=r"^You cannot return 30\.00: only 5\.50 of this purchase is left to return\.$",
        ):
            purchase_return_record(
                purchase=purchase,
                store=store,
                receipt_id="RET2",
                lines=[ReturnLineInput("A", 3)],
            )

        ret = give_back(purchase, store, "RET3", lines=[ReturnLineInput("B", 1)])
        assert ret.points_reversed == 5
        assert balance(member) == 0

    def test_free_item_return_is_refused_not_crashed(self, program, store, member):
        purchase = buy(
            store,
            member,
            "R1",
            lines=[
                LineInput(sku="A", quantity=Decimal("1"), unit_price=Decimal("10")),
                LineInput(sku="GIFT", quantity=Decimal("1"), unit_price=Decimal("0")),
            ],
        )

        with pytest.raises(
            InvalidInput,
            match=r"^The returned items are worth nothing; there are no points to take back\.$",
        ):
            purchase_return_record(
                purchase=purchase,
                store=store,
                receipt_id="RET1",
                lines=[ReturnLineInput("GIFT", 1)],
            )

        assert balance(member) == 10


# --- debt after spending ---------------------------------------------------------------


class TestNegativeBalance:
    def test_return_after_spending_leaves_a_debt_that_later_earning_pays(
        self, program, store, member
    ):
        purchase = buy(store, member, "R1", "100.00")
        points_redeem(member=member, store=store, points=80, receipt_id="S1")

        ret = give_back(purchase, store, "RET1", amount="100.00")

        assert ret.points_reversed == 100
        assert ret.balance_after == -80
        assert balance(member) == -80
        assert_ledger_consistent(member)
        with pytest.raises(
            Conflict, match=r"^Not enough points: the balance is -80, 1 were asked\.$"
        ):
            points_redeem(member=member, store=store, points=1, receipt_id="S2")

        later = buy(store, member, "R2", "50.00")
        assert later.balance_after == -30
        buy(store, member, "R3", "100.00")
        assert balance(member) == 70
        assert_ledger_consistent(member)
        points_redeem(member=member, store=store, points=70, receipt_id="S3")
        assert balance(member) == 0


# --- redemptions -----------------------------------------------------------------------


class TestRedemption:
    @pytest.mark.parametrize(
        ("point_value", "points", "discount"),
        [
            ("0.10", 50, "5.00"),
            ("0.0333", 10, "0.33"),
            ("0.0999", 7, "0.69"),  # 0.6993: down, not half up
            ("0.0049", 1, "0.00"),
        ],
    )
    def test_discount_is_points_times_value_rounded_down(
        self, program, store, member, point_value, points, discount
    ):
        set_program(point_value=point_value)
        buy(store, member, "R1", "100.00")

        redemption, replayed = points_redeem(
            member=member, store=store, points=points, receipt_id="S1"
        )

        assert replayed is False
        assert redemption.discount == Decimal(discount)
        assert redemption.balance_after == 100 - points
        entry = LedgerEntry.objects.get(redemption=redemption)
        assert (entry.kind, entry.points) == (LedgerKind.REDEEM, -points)
        assert_ledger_consistent(member)

    def test_redeem_rejects_overdraft(self, program, store, member):
        buy(store, member, "R1", "50.00")

        with pytest.raises(
            Conflict, match=r"^Not enough points: the balance is 50, 51 were asked\.$"
        ) as exc:
            points_redeem(member=member, store=store, points=51, receipt_id="S1")

        assert exc.value.extra == {"balance": 50}
        assert exc.value.field == "points"
        assert not Redemption.objects.exists()
        assert balance(member) == 50

    def test_redeem_the_whole_balance(self, program, store, member):
        buy(store, member, "R1", "50.00")

        points_redeem(member=member, store=store, points=50, receipt_id="S1")

        assert balance(member) == 0

    def test_redemption_replay_returns_the_first(self, program, store, member):
        buy(store, member, "R1", "100.00")
        first, _ = points_redeem(member=member, store=store, points=60, receipt_id="S1")

        # The balance (40) is now below 60: a retry still answers with the first.
        again, replayed = points_redeem(
            member=member, store=store, points=60, receipt_id="S1"
        )

        assert replayed is True
        assert again.pk == first.pk
        assert balance(member) == 40

    def test_redemption_with_other_points_is_a_conflict(self, program, store, member):
        buy(store, member, "R1", "100.00")
        points_redeem(member=member, store=store, points=10, receipt_id="S1")

        with pytest.raises(
            Conflict,
            match=r"^Receipt S1 already has a redemption at this store with other details\.$",
        ):
            points_redeem(member=member, store=store, points=11, receipt_id="S1")

        assert balance(member) == 90

    def test_same_receipt_at_another_store_is_another_redemption(
        self, program, store, other_store, member
    ):
        buy(store, member, "R1", "100.00")
        points_redeem(member=member, store=store, points=10, receipt_id="S1")
        points_redeem(member=member, store=other_store, points=10, receipt_id="S1")

        assert balance(member) == 80

    @pytest.mark.parametrize(
        ("points", "message"),
        [
            (0, r"^The number of points must be greater than zero\.$"),
            (-5, r"^The number of points must be greater than zero\.$"),
            (1.5, r"^Enter a whole number of points\.$"),
            (True, r"^Enter a whole number of points\.$"),
            ("ten", r"^Enter a whole number of points\.$"),
            (10**9 + 1, r"^The number of points is too large\.$"),
            (float("inf"), r"^Enter a whole number of points\.$"),
            (float("nan"), r"^Enter a whole number of points\.$"),
            (Decimal("Infinity"), r"^Enter a whole number of points\.$"),
        ],
    )
    def test_redeem_rejects_bad_points(self, program, store, member, points, message):
        buy(store, member, "R1", "100.00")

        with pytest.raises(InvalidInput, match=message):
            points_redeem(member=member, store=store, points=points, receipt_id="S1")

        assert balance(member) == 100


# --- adjustments -----------------------------------------------------------------------


class TestAdjustment:
    def test_adjustment_moves_the_balance(self, program, store, member):
        entry = points_adjust(
            member=member, points=25, reason="Goodwill", created_by=None
        )

        assert (entry.kind, entry.points, entry.balance_after, entry.reason) == (
            LedgerKind.ADJUST,
            25,
            25,
            "Goodwill",
        )
        assert balance(member) == 25

    @pytest.mark.parametrize("reason", ["", "   ", None])
    def test_adjustment_needs_a_reason(self, program, member, reason):
        with pytest.raises(
            InvalidInput, match=r"^Give a reason for the adjustment\.$"
        ) as exc:
            points_adjust(member=member, points=5, reason=reason, created_by=None)

        assert exc.value.field == "reason"
        assert not LedgerEntry.objects.exists()

    def test_deduction_cannot_go_below_zero(self, program, member):
        points_adjust(member=member, points=10, reason="Start", created_by=None)

        with pytest.raises(
            Conflict,
            match=r"^The balance is 10; deducting 11 would take it below zero\.$",
        ):
            points_adjust(member=member, points=-11, reason="Fix", created_by=None)

        points_adjust(member=member, points=-10, reason="Fix", created_by=None)
        assert balance(member) == 0
        assert_ledger_consistent(member)

    def test_credit_is_allowed_while_the_member_is_in_debt(
        self, program, store, member
    ):
        purchase = buy(store, member, "R1", "100.00")
        points_redeem(member=member, store=store, points=100, receipt_id="S1")
        give_back(purchase, store, "RET1", amount="100.00")
        assert balance(member) == -100

        points_adjust(member=member, points=30, reason="Goodwill", created_by=None)

        assert balance(member) == -70
        with pytest.raises(
            Conflict,
            match=r"^The balance is -70; deducting 1 would take it below zero\.$",
        ):
            points_adjust(member=member, points=-1, reason="Fix", created_by=None)
        assert_ledger_consistent(member)

    def test_adjustment_idempotency_key(self, program, member):
        first = points_adjust(
            member=member,
            points=10,
            reason="Fix",
            created_by=None,
            idempotency_key="k1",
        )
        again = points_adjust(
            member=member,
            points=10,
            reason="Fix",
            created_by=None,
            idempotency_key="k1",
        )

        assert again.pk == first.pk
        assert balance(member) == 10
        with pytest.raises(
            Conflict, match=r"^This adjustment was already made with other details\.$"
        ):
            points_adjust(
                member=member,
                points=11,
                reason="Fix",
                created_by=None,
                idempotency_key="k1",
            )

    def test_adjustment_key_reused_for_another_member_is_a_conflict(
        self, program, store, member
    ):
        other = MemberFactory(store=store)
        points_adjust(
            member=member,
            points=10,
            reason="Fix",
            created_by=None,
            idempotency_key="k1",
        )

        with pytest.raises(Conflict, match=r"^This adjustment was already made"):
            points_adjust(
                member=other,
                points=10,
                reason="Fix",
                created_by=None,
                idempotency_key="k1",
            )

        assert balance(other) == 0


# --- the ledger itself -----------------------------------------------------------------

APPEND_ONLY = re.escape("Ledger entries are append-only; write a correction.")


class TestLedgerIntegrity:
    def test_an_entry_cannot_be_changed(self, program, member):
        entry = points_adjust(member=member, points=10, reason="Fix", created_by=None)

        entry.points = 1000
        with pytest.raises(AppendOnlyError, match=APPEND_ONLY):
            entry.save()

        entry.refresh_from_db()
        assert entry.points == 10

    def test_an_entry_cannot_be_deleted(self, program, member):
        entry = points_adjust(member=member, points=10, reason="Fix", created_by=None)

        with pytest.raises(AppendOnlyError, match=APPEND_ONLY):
            entry.delete()

        assert LedgerEntry.objects.filter(pk=entry.pk).exists()

    @pytest.mark.parametrize(
        ("kind", "points", "balance_after"),
        [
            (LedgerKind.REDEEM, -10, -5),  # overdraw
            (LedgerKind.ADJUST, -10, -1),  # overdraw
            (LedgerKind.EARN, -1, 0),  # negative earning
            (LedgerKind.REDEEM, 5, 10),  # a debit that credits
            (LedgerKind.CLAWBACK, 5, 10),
        ],
    )
    def test_database_refuses_impossible_entries(
        self, program, member, kind, points, balance_after
    ):
        account = PointsAccount.objects.get(member=member)

        with pytest.raises(IntegrityError), transaction.atomic():
            LedgerEntry.objects.create(
                account=account,
                kind=kind,
                points=points,
                balance_after=balance_after,
                reason="direct insert",
            )

    def test_database_allows_a_clawback_into_debt(self, program, member):
        account = PointsAccount.objects.get(member=member)

        LedgerEntry.objects.create(
            account=account,
            kind=LedgerKind.CLAWBACK,
            points=-10,
            balance_after=-10,
            reason="direct insert",
        )

    def test_database_refuses_returning_more_than_the_purchase(
        self, program, store, member
    ):
        purchase = buy(store, member, "R1", "100.00")

        with pytest.raises(IntegrityError), transaction.atomic():
            Purchase.objects.filter(pk=purchase.pk).update(
                returned_total=Decimal("100.01")
            )
        with pytest.raises(IntegrityError), transaction.atomic():
            Purchase.objects.filter(pk=purchase.pk).update(points_reversed=101)


def test_a_redemption_draws_on_lots_beyond_the_first_page_soonest_expiring_first(
    program, store
):
    # Lots are read 8, then 50 at a time (rewards.services.ledger._in_pages): a spend
    # that needs 120 of them, oldest first, and leaves the rest untouched.
    from rewards.models import LotDraw, PointsLot
    from rewards.services import points_redeem

    member = MemberFactory(store=store)
    for k in range(130):
        buy(store, member, f"R{k}", "2.00")  # 2 points, one lot each
    lots = list(
        PointsLot.objects.filter(account__member=member).order_by("earned_at", "id")
    )

    redemption, _replayed = points_redeem(
        member=member, store=store, points=241, receipt_id="SPEND"
    )

    remaining = [
        lot.remaining
        for lot in PointsLot.objects.filter(pk__in=[x.pk for x in lots]).order_by(
            "earned_at", "id"
        )
    ]
    assert remaining == [0] * 120 + [1] + [2] * 9
    assert LotDraw.objects.filter(entry__redemption=redemption).count() == 121
    assert balance(member) == 19
    assert_ledger_consistent(member)


def test_a_redemption_reads_its_lots_without_building_a_query(program, store):
    # The lots are read while the account is locked (bench 4, the hot member):
    # their statement is compiled once (members.rows.QueryOnce), not per spend.
    from unittest import mock

    from django.db.models.sql.compiler import SQLCompiler

    from rewards.models import LotDraw, PointsLot

    member = MemberFactory(store=store)
    points_adjust(member=member, points=100, reason="start", created_by=None)
    points_redeem(member=member, store=store, points=10, receipt_id="WARM")
    compiled = []

    def spy(compiler, *args, **kwargs):
        compiled.append(compiler.query.model)
        return SQLCompiler.as_sql(compiler, *args, **kwargs)

    with mock.patch.object(SQLCompiler, "as_sql", autospec=True, side_effect=spy):
        redemption, _replayed = points_redeem(
            member=member, store=store, points=25, receipt_id="SPEND"
        )
    assert PointsLot not in compiled
    assert balance(member) == 65
    draws = LotDraw.objects.filter(entry__redemption=redemption)
    assert [d.points for d in draws] == [25]
    assert_ledger_consistent(member)
