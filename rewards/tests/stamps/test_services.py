"""Stamp cards: purchases stamp them, full cards issue vouchers, returns take stamps
back (never twice), cards expire; every card equals the sum of its entries."""

import datetime as dt
import random
from decimal import Decimal

import pytest
from django.db.models import F, Sum
from django.utils import timezone

from members.tests.factories import MemberFactory, StoreFactory
from rewards.models import (
    AppendOnlyError,
    StampCard,
    StampCardStatus,
    StampEntry,
    StampEntryKind,
    StampTrigger,
    Voucher,
    VoucherSource,
    VoucherStatus,
)
from rewards.services import (
    LineInput,
    ReturnLineInput,
    purchase_record,
    purchase_return_record,
    stamp_cards_expire_due,
    voucher_cancel,
    voucher_consume,
    voucher_expire_due,
)
from rewards.tests.factories import RewardFactory, StampProgramFactory

pytestmark = pytest.mark.django_db

_receipts = iter(range(1, 10**6))


def coffee(qty=1, price="50.00", sku="COF-CAP"):
    return LineInput(
        sku=sku, quantity=Decimal(qty), unit_price=Decimal(price), category="coffee"
    )


def bun(qty=1, price="30.00"):
    return LineInput(
        sku="BAK-BUN",
        quantity=Decimal(qty),
        unit_price=Decimal(price),
        category="bakery",
    )


def buy(store, member, *lines, total=None, **kw):
    purchase, _replayed = purchase_record(
        store=store,
        member=member,
        receipt_id=f"R{next(_receipts)}",
        lines=list(lines) or None,
        total=total,
        **kw,
    )
    return purchase


def give_back(store, purchase, *, receipt=None, amount=None, lines=None):
    ret, _replayed = purchase_return_record(
        purchase=purchase,
        store=store,
        receipt_id=receipt or f"B{next(_receipts)}",
        amount=amount,
        lines=lines,
    )
    return ret


def open_card(member, program):
    return StampCard.objects.get(
        member=member, program=program, status=StampCardStatus.OPEN
    )


def assert_cards_exact(member):
    """Every card's stamps and stamps owed equal the sums of its entries."""
    for card in StampCard.objects.filter(member=member):
        sums = card.entries.aggregate(s=Sum("delta"), o=Sum("owed_delta"))
        assert (card.stamps, card.owed) == (sums["s"] or 0, sums["o"] or 0), card
        assert 0 <= card.stamps <= card.needed


@pytest.fixture
def coffee_card(db):
    return StampProgramFactory(
        name="Coffee card",
        trigger=StampTrigger.UNIT,
        category="coffee",
        stamps_needed=3,
        reward=RewardFactory(name="Free coffee", stock=5),
    )


# --- stamping ------------------------------------------------------------------------


def test_each_purchase_stamps_the_open_card_once(store, member):
    program = StampProgramFactory(trigger=StampTrigger.PURCHASE)

    first = buy(store, member, total="10.00")
    buy(store, member, total="99.00")

    card = open_card(member, program)
    assert (card.number, card.stamps, card.needed) == (1, 2, 10)
    entry = card.entries.order_by("id").first()
    assert (entry.kind, entry.delta, entry.purchase) == (StampEntryKind.EARN, 1, first)
    assert entry.reason == f"Purchase {first.receipt_id} at main"
    assert_cards_exact(member)


def test_a_per_purchase_card_with_a_category_needs_a_matching_item(store, member):
    program = StampProgramFactory(trigger=StampTrigger.PURCHASE, category="Coffee")

    buy(store, member, bun())
    assert not StampCard.objects.exists()
    buy(store, member, bun(), coffee(2))
    assert open_card(member, program).stamps == 1


def test_unit_trigger_counts_matching_units_rounded_down(store, member, coffee_card):
    beans = LineInput(
        sku="BEANS",
        quantity=Decimal("1.5"),
        unit_price=Decimal("10"),
        category="coffee",
    )
    buy(store, member, coffee(1), beans, bun(4))  # 2.5 coffee units

    assert open_card(member, coffee_card).stamps == 2


def test_unit_trigger_by_sku(store, member):
    program = StampProgramFactory(trigger=StampTrigger.UNIT, sku="BAK-BUN")

    buy(store, member, bun(3), coffee(2))

    assert open_card(member, program).stamps == 3


def test_free_items_earn_no_stamps(store, member, coffee_card):
    buy(store, member, coffee(1, price="0"), bun())

    assert not StampCard.objects.exists()


def test_min_spend_trigger_needs_the_minimum(store, member):
    program = StampProgramFactory(
        trigger=StampTrigger.MIN_SPEND, min_spend=Decimal("100.00")
    )

    buy(store, member, total="99.99")
    assert not StampCard.objects.exists()
    buy(store, member, total="100.00")
    assert open_card(member, program).stamps == 1


def test_min_spend_on_a_category_counts_only_its_items(store, member):
    program = StampProgramFactory(
        trigger=StampTrigger.MIN_SPEND, min_spend=Decimal("100"), category="coffee"
    )

    buy(store, member, coffee(1), bun(10))  # 50 of coffee
    assert not StampCard.objects.exists()
    buy(store, member, coffee(2))
    assert open_card(member, program).stamps == 1


def test_programs_of_other_stores_inactive_or_out_of_dates_do_not_stamp(
    store, other_store, member
):
    only_other = StampProgramFactory()
    only_other.stores.set([other_store])
    StampProgramFactory(active=False)
    today = timezone.localdate()
    StampProgramFactory(starts_on=today + dt.timedelta(days=1))
    StampProgramFactory(ends_on=today - dt.timedelta(days=1))
    here = StampProgramFactory(starts_on=today, ends_on=today)
    here.stores.set([store, other_store])

    buy(store, member, total="10.00")

    assert list(StampCard.objects.values_list("program", flat=True)) == [here.pk]


def test_several_programs_stamp_from_one_purchase(store, member, coffee_card):
    visits = StampProgramFactory(trigger=StampTrigger.PURCHASE)

    buy(store, member, coffee(2))

    assert open_card(member, coffee_card).stamps == 2
    assert open_card(member, visits).stamps == 1


def test_a_full_card_issues_its_voucher_and_a_new_card_takes_the_extra_stamps(
    store, member, coffee_card
):
    buy(store, member, coffee(2))
    purchase = buy(store, member, coffee(3))

    full = StampCard.objects.get(member=member, number=1)
    assert full.status == StampCardStatus.COMPLETED
    assert full.stamps == 3
    voucher = full.voucher
    assert voucher.reward == coffee_card.reward
    assert voucher.member == member
    assert (voucher.source, voucher.points_spent) == (VoucherSource.STAMP_CARD, 0)
    assert voucher.idempotency_key == f"stamp-card:{full.pk}"
    assert voucher.status == VoucherStatus.ISSUED
    new = open_card(member, coffee_card)
    assert (new.number, new.stamps) == (2, 2)
    carried = new.entries.get()
    assert carried.purchase == purchase
    assert carried.reason.endswith("(carried over)")
    coffee_card.reward.refresh_from_db()
    assert coffee_card.reward.stock == 5  # a promised voucher takes no stock
    assert_cards_exact(member)


def test_one_purchase_can_fill_several_cards(store, member, coffee_card):
    buy(store, member, coffee(7))

    assert StampCard.objects.filter(status=StampCardStatus.COMPLETED).count() == 2
    assert Voucher.objects.filter(source=VoucherSource.STAMP_CARD).count() == 2
    assert open_card(member, coffee_card).stamps == 1


def test_a_replayed_purchase_stamps_once(store, member, coffee_card):
    kw = {"store": store, "member": member, "receipt_id": "SAME", "lines": [coffee()]}
    purchase_record(**kw)
    _again, replayed = purchase_record(**kw)

    assert replayed
    assert open_card(member, coffee_card).stamps == 1


def test_a_new_card_keeps_its_own_stamps_needed_after_the_program_changes(
    store, member, coffee_card
):
    buy(store, member, coffee(1))
    coffee_card.stamps_needed = 5
    coffee_card.save()
    buy(store, member, coffee(3))

    first = StampCard.objects.get(member=member, number=1)
    assert (first.needed, first.status) == (3, StampCardStatus.COMPLETED)
    second = open_card(member, coffee_card)
    assert (second.needed, second.stamps) == (5, 1)


def test_stamp_entries_are_append_only(store, member, coffee_card):
    buy(store, member, coffee())
    entry = StampEntry.objects.get()

    with pytest.raises(AppendOnlyError):
        entry.save()
    with pytest.raises(AppendOnlyError):
        entry.delete()
    with pytest.raises(AppendOnlyError):
        StampEntry.objects.update(delta=5)


# --- returns -------------------------------------------------------------------------


def test_return_of_lines_takes_back_their_stamps(store, member, coffee_card):
    purchase = buy(store, member, coffee(2), bun())

    ret = give_back(store, purchase, lines=[ReturnLineInput("COF-CAP", Decimal(1))])

    card = open_card(member, coffee_card)
    assert card.stamps == 1
    entry = card.entries.get(kind=StampEntryKind.RETURN)
    assert (entry.delta, entry.purchase, entry.purchase_return) == (-1, purchase, ret)
    assert_cards_exact(member)


def test_return_of_other_items_keeps_the_stamps(store, member, coffee_card):
    purchase = buy(store, member, coffee(2), bun())

    give_back(store, purchase, lines=[ReturnLineInput("BAK-BUN", Decimal(1))])

    assert open_card(member, coffee_card).stamps == 2
    assert not StampEntry.objects.filter(kind=StampEntryKind.RETURN).exists()


def test_return_by_amount_takes_the_same_share_of_the_items(store, member):
    program = StampProgramFactory(trigger=StampTrigger.UNIT, category="coffee")
    purchase = buy(store, member, coffee(4), bun(10))  # 200 + 300

    give_back(store, purchase, amount="250.00")  # half: 2 coffees' worth

    assert open_card(member, program).stamps == 2


def test_a_partial_return_keeps_a_per_purchase_stamp_a_full_one_takes_it(store, member):
    program = StampProgramFactory(trigger=StampTrigger.PURCHASE)
    purchase = buy(store, member, total="100.00")

    give_back(store, purchase, amount="60.00")
    assert open_card(member, program).stamps == 1
    give_back(store, purchase, amount="40.00")
    assert open_card(member, program).stamps == 0


def test_a_return_below_the_minimum_spend_takes_the_stamp(store, member):
    program = StampProgramFactory(
        trigger=StampTrigger.MIN_SPEND, min_spend=Decimal("100")
    )
    purchase = buy(store, member, total="120.00")

    give_back(store, purchase, amount="10.00")
    assert open_card(member, program).stamps == 1
    give_back(store, purchase, amount="20.00")
    assert open_card(member, program).stamps == 0


def test_stamps_are_never_taken_back_twice(store, member, coffee_card):
    buy(store, member, coffee(1))
    purchase = buy(store, member, coffee(1), bun())
    line = [ReturnLineInput("COF-CAP", Decimal(1))]

    give_back(store, purchase, receipt="RET-1", lines=line)
    give_back(store, purchase, receipt="RET-1", lines=line)  # a replay
    give_back(store, purchase, lines=[ReturnLineInput("BAK-BUN", Decimal(1))])

    assert open_card(member, coffee_card).stamps == 1
    assert StampEntry.objects.filter(kind=StampEntryKind.RETURN).count() == 1
    assert_cards_exact(member)


def test_return_after_a_full_card_cancels_its_unused_voucher_and_moves_the_stamps(
    store, member, coffee_card
):
    buy(store, member, coffee(2))
    filling = buy(store, member, coffee(2))  # card 1 full, card 2 has 1
    voucher = StampCard.objects.get(number=1).voucher

    give_back(store, filling, lines=[ReturnLineInput("COF-CAP", Decimal(2))])

    voucher.refresh_from_db()
    assert voucher.status == VoucherStatus.CANCELLED
    assert voucher.points_refunded == 0
    first = StampCard.objects.get(number=1)
    assert (first.status, first.stamps) == (StampCardStatus.REVOKED, 0)
    card = open_card(member, coffee_card)
    assert (card.number, card.stamps, card.owed) == (2, 2, 0)  # the first purchase's
    assert_cards_exact(member)

    buy(store, member, coffee(1))  # fills card 2: a new voucher
    card2 = StampCard.objects.get(number=2)
    assert card2.status == StampCardStatus.COMPLETED
    assert card2.voucher.status == VoucherStatus.ISSUED


def test_return_after_the_voucher_was_used_leaves_stamps_owed(
    store, member, coffee_card
):
    filling = buy(store, member, coffee(3))
    voucher = StampCard.objects.get(number=1).voucher
    voucher_consume(code=voucher.code, store=store, receipt_id="USE-1")

    give_back(store, filling, lines=[ReturnLineInput("COF-CAP", Decimal(2))])

    card = open_card(member, coffee_card)
    assert (card.number, card.stamps, card.owed) == (2, 0, 2)
    assert card.missing == 5
    assert StampCard.objects.get(number=1).status == StampCardStatus.COMPLETED
    assert_cards_exact(member)

    buy(store, member, coffee(3))  # 2 pay the debt, 1 stamps

    card.refresh_from_db()
    assert (card.stamps, card.owed) == (1, 0)
    assert card.entries.order_by("-id").first().reason.endswith("2 paid stamps owed")
    assert_cards_exact(member)


def test_a_return_takes_the_open_cards_stamps_before_undoing_a_full_card(
    store, member, coffee_card
):
    early = buy(store, member, coffee(3))  # card 1 full
    buy(store, member, coffee(2))  # card 2: 2

    give_back(store, early, lines=[ReturnLineInput("COF-CAP", Decimal(1))])

    assert StampCard.objects.get(number=1).voucher.status == VoucherStatus.ISSUED
    assert open_card(member, coffee_card).stamps == 1


def test_a_cancelled_stamp_voucher_is_not_cancelled_again_by_a_return(
    store, member, coffee_card
):
    filling = buy(store, member, coffee(3))
    voucher = StampCard.objects.get(number=1).voucher
    voucher_cancel(voucher=voucher, by=None)

    give_back(store, filling, lines=[ReturnLineInput("COF-CAP", Decimal(1))])

    assert open_card(member, coffee_card).owed == 1


def test_stamps_match_what_the_kept_purchases_earn_after_any_returns(store):
    """Without expiry: the stamps every kept purchase earns == needed × full cards
    + stamps on the open card − stamps owed, whatever the order of events."""
    program = StampProgramFactory(
        trigger=StampTrigger.UNIT, category="coffee", stamps_needed=4
    )
    for seed in range(4):
        rng = random.Random(seed)
        member = MemberFactory(store=store)
        purchases = []
        for _step in range(25):
            roll = rng.random()
            if roll < 0.6 or not purchases:
                purchases.append(buy(store, member, coffee(rng.randint(1, 5)), bun()))
            elif roll < 0.7:
                full = StampCard.objects.filter(
                    member=member, voucher__status=VoucherStatus.ISSUED
                ).first()
                if full:
                    voucher_consume(
                        code=full.voucher.code,
                        store=store,
                        receipt_id=f"U{seed}{_step}",
                    )
            else:
                p = rng.choice(purchases)
                p.refresh_from_db()
                left = p.lines.get(sku="COF-CAP")
                qty = left.quantity - left.quantity_returned
                back = Decimal(rng.randint(1, max(int(qty), 1)))
                if rng.random() < 0.5 and qty and back * 50 <= p.returnable_total:
                    give_back(store, p, lines=[ReturnLineInput("COF-CAP", back)])
                elif p.returnable_total > 1:
                    amount = (p.returnable_total / 2).quantize(Decimal("0.01"))
                    give_back(store, p, amount=amount)
        assert_cards_exact(member)
        kept = StampEntry.objects.filter(card__member=member, purchase__isnull=False)
        per_purchase = kept.aggregate(u=Sum(F("delta") - F("owed_delta")))["u"] or 0
        full = StampCard.objects.filter(
            member=member, status=StampCardStatus.COMPLETED
        ).count()
        card = open_card(member, program)
        assert per_purchase == 4 * full + card.stamps - card.owed, seed
        issued = Voucher.objects.filter(member=member, source=VoucherSource.STAMP_CARD)
        assert issued.exclude(status=VoucherStatus.CANCELLED).count() == full


# --- expiry --------------------------------------------------------------------------


def test_cards_expire_nightly_once(store, member, coffee_card):
    coffee_card.card_valid_days = 30
    coffee_card.save()
    buy(store, member, coffee(2))
    card = open_card(member, coffee_card)
    assert card.expires_at == card.opened_at + dt.timedelta(days=30)

    assert stamp_cards_expire_due(now=card.expires_at - dt.timedelta(seconds=1)) == 0
    assert stamp_cards_expire_due(now=card.expires_at) == 1
    assert stamp_cards_expire_due(now=card.expires_at) == 0

    card.refresh_from_db()
    assert (card.status, card.stamps) == (StampCardStatus.EXPIRED, 2)
    assert card.entries.get(kind=StampEntryKind.EXPIRE).reason == (
        "Card expired with 2 of 3 stamps"
    )
    buy(store, member, coffee(1))
    assert (
        open_card(member, coffee_card).number,
        open_card(member, coffee_card).stamps,
    ) == (2, 1)


def test_a_purchase_after_the_expiry_date_starts_a_new_card(store, member, coffee_card):
    coffee_card.card_valid_days = 10
    coffee_card.save()
    then = timezone.now() - dt.timedelta(days=20)
    buy(store, member, coffee(2), occurred_at=then, recorded_at=then)

    buy(store, member, coffee(1))

    old = StampCard.objects.get(number=1)
    assert old.status == StampCardStatus.EXPIRED
    assert open_card(member, coffee_card).stamps == 1
    assert_cards_exact(member)


def test_a_stamp_voucher_expiring_gives_no_stock_back(store, member, coffee_card):
    buy(store, member, coffee(3))
    voucher = Voucher.objects.get(source=VoucherSource.STAMP_CARD)

    assert voucher_expire_due(now=voucher.expires_at) == 1

    coffee_card.reward.refresh_from_db()
    assert coffee_card.reward.stock == 5


def test_a_stamp_card_voucher_on_another_store_member(store):
    """Stamps are per member: another member's purchases never touch the card."""
    program = StampProgramFactory()
    one, two = MemberFactory(store=store), MemberFactory(store=StoreFactory())
    buy(store, one, total="5.00")
    buy(store, two, total="5.00")

    assert open_card(one, program).stamps == 1
    assert open_card(two, program).stamps == 1
