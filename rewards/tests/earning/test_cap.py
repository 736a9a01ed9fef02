"""The cap on the points of one purchase (ProgramSettings.earn_cap_percent):
applied last in the earn order, shown last in the breakdown, never passed
however the purchase is made up, and taken back exactly by returns, at the
Counter and through the till API; and the breakdown in the order the stages
apply."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_FLOOR, Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.urls import reverse
from django.utils import translation
from hypothesis import example, given, settings
from hypothesis import strategies as st

from members.tests.factories import MemberFactory
from rewards.earning import (
    STAGE_ORDER,
    STAGES,
    EarnLine,
    Multiplier,
    breakdown_in_order,
    earn_compute,
    kept_points,
)
from rewards.models import (
    EarningRule,
    LedgerEntry,
    LedgerKind,
    ProgramSettings,
    Purchase,
    RuleKind,
)
from rewards.selectors.invariants import ledger_invariant_violations
from rewards.selectors.program import program_settings_get
from rewards.selectors.statement import earn_breakdown_explain
from rewards.services import (
    LineInput,
    ReturnLineInput,
    purchase_record,
    purchase_return_record,
)
from rewards.tests.factories import EarningRuleFactory, TierFactory

MONDAY_10AM = dt.datetime(2026, 11, 23, 8, 0, tzinfo=dt.UTC)
SATURDAY_5PM = dt.datetime(2026, 11, 21, 15, 0, tzinfo=dt.UTC)


def floor(value: Decimal) -> int:
    return int(value.to_integral_value(rounding=ROUND_FLOOR))


def cap_points(percent: Decimal, amount: Decimal, point_value: Decimal) -> int:
    """The most points a purchase of `amount` may earn, rounded down as the
    program rounds what a purchase earns."""
    return floor(percent / 100 * amount / point_value)


def rule(kind, pk, *, multiplier="1", points=0, category="", sku="") -> EarningRule:
    """An unsaved rule with the pk and stores the engine reads."""
    r = EarningRule(
        pk=pk,
        name=f"rule {pk}",
        kind=kind,
        category=category,
        sku=sku,
        multiplier=Decimal(multiplier),
        points_per_unit=points,
    )
    r.store_ids = set()
    return r


RULES = [
    rule(RuleKind.MULTIPLIER, 1, multiplier="1.5", category="bakery"),
    rule(RuleKind.FIXED, 2, points=20, sku="BEANS"),
    rule(RuleKind.PROMOTION, 3, multiplier=Decimal("2")),
    rule(RuleKind.PROMOTION, 4, multiplier="3", category="coffee"),
    rule(RuleKind.EXCLUDE, 5, sku="MILK"),
]
ITEMS = [
    ("LATTE", "coffee"),
    ("CROISSANT", "bakery"),
    ("BEANS", "beans"),
    ("MILK", "dairy"),
    ("BREAD", "bread"),
]

money = st.decimals(min_value="0.01", max_value="5000", places=2)
lines_strategy = st.lists(
    st.tuples(
        st.sampled_from(ITEMS),
        st.integers(min_value=1, max_value=5),
        money,
    ).map(
        lambda t: EarnLine(
            sku=t[0][0],
            category=t[0][1],
            quantity=Decimal(t[1]),
            amount=(t[2] * t[1]).quantize(Decimal("0.01")),
        )
    ),
    min_size=1,
    max_size=6,
)
multipliers = st.sampled_from(["1", "1.1", "1.25", "1.5", "2", "3"]).map(Decimal)


def compute(lines, *, cap=None, point_value="0.10", base="1", tier="1", plan="1"):
    return earn_compute(
        lines=lines,
        at=MONDAY_10AM,
        store_id=1,
        base_rate=Decimal(base),
        min_purchase=Decimal("0"),
        rules=RULES,
        tier=Multiplier("Gold", Decimal(tier)),
        membership=Multiplier("Club", Decimal(plan)),
        cap_percent=None if cap is None else Decimal(cap),
        point_value=Decimal(point_value),
    )


# --- the engine ---------------------------------------------------------------------


class TestCapProperties:
    @settings(max_examples=150, deadline=None)
    @given(
        lines=lines_strategy,
        cap=st.decimals(min_value="0.01", max_value="100", places=2),
        point_value=st.sampled_from(["0.01", "0.03", "0.10", "0.125", "1", "3.3333"]),
        base=st.sampled_from(["0.1", "0.2", "0.3333", "1", "2.5"]),
        tier=multipliers,
        plan=multipliers,
    )
    @example(  # a cap that is a whole number of points exactly
        lines=[EarnLine("LATTE", "coffee", Decimal(1), Decimal("100.00"))],
        cap=Decimal("10"),
        point_value="0.10",
        base="1",
        tier=Decimal("1.5"),
        plan=Decimal("1.5"),
    )
    def test_points_never_pass_the_cap_and_the_parts_add_up(
        self, lines, cap, point_value, base, tier, plan
    ):
        free = compute(lines, point_value=point_value, base=base, tier=tier, plan=plan)
        capped = compute(
            lines, cap=cap, point_value=point_value, base=base, tier=tier, plan=plan
        )
        amount = sum((line.amount for line in lines), Decimal("0"))

        most = cap_points(cap, amount, Decimal(point_value))
        assert capped.points <= most
        # The cap per currency unit is rounded down to 6 places: at most a
        # point less than the exact share, never more.
        assert min(free.points, most) - 1 <= capped.points <= min(free.points, most)
        # Returns read the lines' exact points: they add up to the purchase's,
        # none grew, and the whole points are those of the exact sum.
        assert sum(capped.line_exact, Decimal("0")) == capped.exact
        assert all(
            c <= f for c, f in zip(capped.line_exact, free.line_exact, strict=True)
        )
        assert capped.points == floor(capped.exact)
        # The breakdown adds up, in the order the stages apply, the cap last.
        assert sum(item["points"] for item in capped.breakdown) == capped.points
        stages = [item["stage"] for item in capped.breakdown]
        assert stages == sorted(stages, key=STAGE_ORDER.__getitem__)
        assert capped.points_capped == free.points - capped.points
        if capped.points_capped:
            assert capped.breakdown[-1] == {
                "stage": "cap",
                "rule": None,
                "name": "",
                "multiplier": "",
                "percent": format(cap.normalize(), "f"),
                "points": -capped.points_capped,
            }
            assert capped.breakdown[:-1] == free.breakdown
        else:
            assert "cap" not in stages

    @settings(max_examples=100, deadline=None)
    @given(
        lines=lines_strategy,
        cap=st.decimals(min_value="0.5", max_value="30", places=1),
        shares=st.lists(
            st.integers(min_value=1, max_value=100), min_size=1, max_size=4
        ),
    )
    def test_returns_by_amount_keep_less_each_time_and_nothing_at_the_end(
        self, lines, cap, shares
    ):
        result = compute(lines, cap=cap, tier="1.5", plan="1.5")
        total = sum((line.amount for line in lines), Decimal("0"))
        returned = Decimal("0")
        kept_before = result.points
        for share in [*shares, 100]:
            returned = min(
                total, returned + (total * share / 100).quantize(Decimal("0.01"))
            )
            kept = kept_points(
                total=total,
                returned_total=returned,
                min_purchase=Decimal("0"),
                exact=result.exact,
                eligible_total=result.eligible_total,
                cap_per_unit=result.cap_per_unit,
            )
            assert 0 <= kept <= kept_before
            assert kept <= cap_points(cap, total - returned, Decimal("0.10"))
            kept_before = kept
        assert kept_before == 0


def test_cap_comes_last_in_the_stages_staff_read():
    assert STAGES[-1][0] == "cap"
    assert list(STAGE_ORDER) == [stage for stage, _label in STAGES]


def test_breakdown_lists_stages_in_the_order_they_apply_whatever_the_line_order():
    """A rule met first on a later line (the bakery multiplier on the second
    line) is listed in its own stage, before the tier and the promotion that
    apply after it: the order of the lines equals the earn pipeline's."""
    coffee = EarnLine("LATTE", "coffee", Decimal(1), Decimal("100.00"))
    bread = EarnLine("BREAD", "bread", Decimal(1), Decimal("50.00"))
    croissant = EarnLine("CROISSANT", "bakery", Decimal(1), Decimal("60.00"))
    beans = EarnLine("BEANS", "beans", Decimal(1), Decimal("285.00"))
    for lines in (
        [coffee, bread, croissant, beans],
        [beans, croissant, bread, coffee],
        [bread, beans, coffee, croissant],
    ):
        result = compute(lines, tier="1.5", plan="1.5", cap="20")
        stages = [item["stage"] for item in result.breakdown]
        assert list(dict.fromkeys(stages)) == [
            "base",
            "product",
            "fixed",
            "tier",
            "membership",
            "promotion",
            "cap",
        ], lines


# --- recording, the statement, returns ------------------------------------------------


@pytest.fixture
def capped(db):
    """1 point per UAH, a point worth 0.10 UAH, at most 10 % of a purchase back."""
    conf = program_settings_get()
    conf.points_per_unit = Decimal("1")
    conf.min_purchase = Decimal("0")
    conf.point_value = Decimal("0.10")
    conf.earn_cap_percent = Decimal("10")
    conf.save()
    return conf


@pytest.fixture
def gold_member(store):
    member = MemberFactory(store=store)
    member.account.tier = TierFactory(
        name="Gold", threshold=Decimal("0"), earn_multiplier=Decimal("1.5")
    )
    member.account.save()
    return member


LATTE = LineInput(
    sku="LATTE", quantity=Decimal(2), unit_price=Decimal("50.00"), category="coffee"
)
MILK = LineInput(
    sku="MILK", quantity=Decimal(1), unit_price=Decimal("100.00"), category="dairy"
)


def balance_matches_entries(member) -> bool:
    member.account.refresh_from_db()
    entries = LedgerEntry.objects.filter(account__member=member).aggregate(
        s=Sum("points")
    )["s"]
    return member.account.balance == (entries or 0)


@pytest.mark.django_db
class TestCappedPurchase:
    def _buy(self, member, store, lines, receipt="R1", at=SATURDAY_5PM):
        purchase, _replayed = purchase_record(
            store=store, member=member, receipt_id=receipt, lines=lines, occurred_at=at
        )
        return purchase

    def test_cap_takes_off_what_passes_the_share_and_says_so(
        self, capped, gold_member, store
    ):
        """Lattes 100 UAH, ×1.5 Gold, ×2 weekend = 300 points (30 UAH, 30 %);
        the cap of 10 % of 100 UAH at 0.10 UAH a point leaves 100."""
        weekend = EarningRuleFactory(
            kind=RuleKind.PROMOTION,
            category="",
            multiplier=Decimal("2"),
            weekdays="56",
            name="Weekend x2",
        )
        purchase = self._buy(gold_member, store, [LATTE])

        assert purchase.points_earned == 100
        assert purchase.points_exact == Decimal("100")
        assert purchase.tier.name == "Gold"
        assert purchase.points_cap_per_unit == Decimal("1")
        entry = LedgerEntry.objects.get(purchase=purchase, kind=LedgerKind.EARN)
        assert [(i["stage"], i["rule"], i["points"]) for i in entry.breakdown] == [
            ("base", None, 100),
            ("tier", None, 50),
            ("promotion", weekend.pk, 150),
            ("cap", None, -200),
        ]
        with translation.override("en"):
            lines = earn_breakdown_explain(entry, currency="UAH")
        assert [(line["label"], line["points"]) for line in lines] == [
            ("Base rate: 1 per 1\xa0UAH", 100),
            ("Gold tier (×1.5)", 50),
            ("Weekend x2 (×2)", 150),
            ("Capped at 10% of the purchase", -200),
        ]

    def test_statement_page_shows_the_cap_line_last(
        self, capped, store, client, customer
    ):
        user, member = customer
        EarningRuleFactory(
            kind=RuleKind.PROMOTION, category="", multiplier=Decimal("3")
        )
        self._buy(member, store, [LATTE])
        client.force_login(user)

        with translation.override("en"):
            page = client.get(reverse("rewards:statement"), HTTP_ACCEPT_LANGUAGE="en")

        html = page.content.decode()
        assert "Capped at 10% of the purchase" in html
        assert html.index("Base rate") < html.index("Capped at 10%")
        assert 'data-stage="cap"' in html and "-200" in html

    def test_no_cap_line_when_the_purchase_stays_under_it(self, capped, member, store):
        purchase = self._buy(member, store, [LATTE], at=MONDAY_10AM)
        entry = LedgerEntry.objects.get(purchase=purchase)
        assert purchase.points_earned == 100  # exactly 10 %: nothing taken off
        assert [i["stage"] for i in entry.breakdown] == ["base"]

    def test_partial_and_full_returns_take_back_exactly_what_was_earned(
        self, capped, gold_member, store
    ):
        EarningRuleFactory(
            kind=RuleKind.PROMOTION, category="", multiplier=Decimal("2")
        )
        purchase = self._buy(gold_member, store, [LATTE, MILK])
        # 200 UAH × 1.5 × 2 = 600 points, capped at 10 % of 200 UAH = 200.
        assert purchase.points_earned == 200

        first, _ = purchase_return_record(
            purchase=purchase,
            store=store,
            receipt_id="RET1",
            lines=[ReturnLineInput(sku="LATTE", quantity=Decimal(1))],
        )
        # 150 UAH kept: 150 of the points' share, at most 10 % of 150 UAH.
        assert first.points_reversed == 50
        second, _ = purchase_return_record(
            purchase=purchase, store=store, receipt_id="RET2", amount=Decimal("100.00")
        )
        # 50 UAH kept: the cap leaves 50 points.
        assert second.points_reversed == 100
        last, _ = purchase_return_record(
            purchase=purchase, store=store, receipt_id="RET3", amount=Decimal("50.00")
        )
        assert last.points_reversed == 50
        purchase.refresh_from_db()
        assert purchase.points_reversed == purchase.points_earned == 200
        assert balance_matches_entries(gold_member)
        assert gold_member.account.balance == 0
        assert ledger_invariant_violations() == []

    def test_returning_an_item_that_earned_nothing_keeps_the_rest_under_the_cap(
        self, capped, gold_member, store
    ):
        """Milk earns nothing; the lattes earned the purchase's 200 points under
        the cap of 200 UAH. Returning the milk leaves 100 UAH: 100 points."""
        EarningRuleFactory(kind=RuleKind.EXCLUDE, sku="MILK", category="")
        EarningRuleFactory(
            kind=RuleKind.PROMOTION, category="", multiplier=Decimal("3")
        )
        purchase = self._buy(gold_member, store, [LATTE, MILK])
        assert purchase.points_earned == 200

        ret, _ = purchase_return_record(
            purchase=purchase,
            store=store,
            receipt_id="RET1",
            lines=[ReturnLineInput(sku="MILK", quantity=Decimal(1))],
        )

        assert ret.points_reversed == 100
        assert balance_matches_entries(gold_member)

    def test_a_retry_answers_the_first_purchase_and_earns_once(
        self, capped, gold_member, store
    ):
        EarningRuleFactory(
            kind=RuleKind.PROMOTION, category="", multiplier=Decimal("3")
        )
        first = self._buy(gold_member, store, [LATTE], receipt="DUP")
        again, replayed = purchase_record(
            store=store,
            member=gold_member,
            receipt_id="DUP",
            lines=[LATTE],
            occurred_at=SATURDAY_5PM,
        )
        assert replayed and again.pk == first.pk
        assert LedgerEntry.objects.filter(account__member=gold_member).count() == 1
        assert balance_matches_entries(gold_member)

    def test_a_purchase_recorded_before_the_cap_keeps_its_points_on_return(
        self, capped, gold_member, store
    ):
        conf = program_settings_get()
        conf.earn_cap_percent = None
        conf.save()
        EarningRuleFactory(
            kind=RuleKind.PROMOTION, category="", multiplier=Decimal("3")
        )
        purchase = self._buy(gold_member, store, [LATTE])
        assert purchase.points_earned == 450 and purchase.points_cap_per_unit is None
        conf.earn_cap_percent = Decimal("10")
        conf.save()

        ret, _ = purchase_return_record(
            purchase=purchase, store=store, receipt_id="RET1", amount=Decimal("50.00")
        )

        assert ret.points_reversed == 225  # half, not the new cap
        assert balance_matches_entries(gold_member)


@pytest.mark.django_db
class TestCapAtTheTills:
    def test_counter_purchase_and_returns_are_capped_and_clawed_back(
        self, capped, client, cashier, store
    ):
        member = MemberFactory(store=store)
        EarningRuleFactory(
            kind=RuleKind.PROMOTION, category="", multiplier=Decimal("3")
        )
        client.force_login(cashier)
        url = reverse("admin:counter_purchase", args=[member.pk])
        data = {"purchase-total": "250.00", "purchase-receipt_id": "C-1"}

        assert client.post(url, data).status_code == 302
        assert client.post(url, data).status_code == 302  # the same receipt again

        purchase = Purchase.objects.get()
        assert purchase.points_earned == 250  # 750 capped at 10 % of 250 UAH
        assert LedgerEntry.objects.count() == 1
        returns = reverse("admin:counter_return", args=[member.pk])
        for receipt, amount in (("RET-1", "100.00"), ("RET-2", "150.00")):
            response = client.post(
                returns,
                {
                    "return-purchase": purchase.pk,
                    "return-amount": amount,
                    "return-receipt_id": receipt,
                },
            )
            assert response.status_code == 302
        purchase.refresh_from_db()
        assert purchase.points_reversed == purchase.points_earned
        assert balance_matches_entries(member) and member.account.balance == 0

    def test_api_purchase_answers_the_cap_line_and_returns_claw_back(
        self, capped, api_client, store
    ):
        member = MemberFactory(store=store)
        EarningRuleFactory(
            kind=RuleKind.PROMOTION, category="", multiplier=Decimal("3")
        )
        api_client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
        body = {
            "card_number": member.card_number,
            "receipt_id": "A-1",
            "total": "99.99",
        }

        response = api_client.post(
            reverse("api-v1:purchase-create"), body, format="json"
        )
        replay = api_client.post(reverse("api-v1:purchase-create"), body, format="json")

        assert response.status_code == 201, response.json()
        assert replay.status_code == 200 and replay.json() == response.json()
        # 99.99 × 3 = 299.97 → 299; the cap: 10 % of 99.99 UAH = 99.99 points → 99.
        assert response.json()["points_earned"] == 99
        assert response.json()["points_breakdown"][-1] == {
            "stage": "cap",
            "rule": None,
            "name": "",
            "points": -200,
        }
        purchase_id = response.json()["id"]
        for receipt, amount in (("AR-1", "33.33"), ("AR-2", "66.66")):
            answer = api_client.post(
                f"/api/v1/purchases/{purchase_id}/returns",
                {"receipt_id": receipt, "amount": amount},
                format="json",
            )
            assert answer.status_code == 201, answer.json()
        purchase = Purchase.objects.get(pk=purchase_id)
        assert purchase.points_reversed == purchase.points_earned == 99
        assert balance_matches_entries(member) and member.account.balance == 0
        assert ledger_invariant_violations() == []


# --- the setting --------------------------------------------------------------------


@pytest.mark.django_db
class TestCapSetting:
    @pytest.mark.parametrize("value", ["0.01", "10", "100"])
    def test_accepts_a_share_above_zero_up_to_all(self, value):
        conf = program_settings_get()
        conf.earn_cap_percent = Decimal(value)
        conf.full_clean()

    @pytest.mark.parametrize("value", ["0", "-5", "100.01"])
    def test_refuses_nothing_a_negative_share_or_more_than_all(self, value):
        conf = program_settings_get()
        conf.earn_cap_percent = Decimal(value)
        with pytest.raises(ValidationError) as error:
            conf.full_clean()
        assert "earn_cap_percent" in error.value.message_dict

    def test_empty_means_no_cap(self, member, store):
        conf = program_settings_get()
        conf.earn_cap_percent = None
        conf.full_clean()
        conf.save()
        purchase, _ = purchase_record(
            store=store, member=member, receipt_id="R", total=Decimal("1000")
        )
        assert purchase.points_cap_per_unit is None

    @pytest.mark.parametrize("value", ["0", "100.5"])
    def test_the_database_refuses_a_cap_out_of_range(self, value):
        program_settings_get().save()
        with pytest.raises(IntegrityError), transaction.atomic():
            ProgramSettings.objects.update(earn_cap_percent=Decimal(value))


def test_a_breakdown_stored_out_of_order_is_shown_in_the_order_applied():
    """Entries written before the order was kept list a stage met on a later
    line after later stages; the statement and the API put them right."""
    stored = [
        {"stage": "base", "rule": None, "name": "", "multiplier": "1", "points": 10},
        {"stage": "tier", "rule": None, "name": "Gold", "multiplier": "1.5", "points": 8},
        {"stage": "product", "rule": 7, "name": "Bakery", "multiplier": "1.5", "points": 3},
        {"stage": "promotion", "rule": 9, "name": "Weekend", "multiplier": "2", "points": 21},
        {"stage": "fixed", "rule": 8, "name": "Beans", "multiplier": "", "points": 20},
    ]  # fmt: skip
    with translation.override("en"):
        lines = earn_breakdown_explain(LedgerEntry(breakdown=stored), currency="UAH")
    assert [line["stage"] for line in lines] == [
        "base",
        "product",
        "fixed",
        "tier",
        "promotion",
    ]
    assert [item["stage"] for item in breakdown_in_order(stored)] == [
        line["stage"] for line in lines
    ]


@pytest.mark.django_db
@pytest.mark.parametrize(("value", "saved"), [("12.5", Decimal("12.5")), ("", None)])
def test_a_manager_sets_or_clears_the_cap_in_admin(client, admin_user, value, saved):
    row = program_settings_get()
    row.save()
    url = reverse("admin:rewards_programsettings_change", args=[row.pk])
    client.force_login(admin_user)
    form = client.get(url).context["adminform"].form
    data = {
        name: "" if form.initial.get(name) is None else form.initial[name]
        for name in form.fields
    }

    response = client.post(url, {**data, "earn_cap_percent": value})

    assert response.status_code == 302, response.context["adminform"].form.errors
    row.refresh_from_db()
    assert row.earn_cap_percent == saved


@pytest.mark.django_db
def test_admin_refuses_a_cap_of_zero(client, admin_user):
    row = program_settings_get()
    row.save()
    url = reverse("admin:rewards_programsettings_change", args=[row.pk])
    client.force_login(admin_user)
    form = client.get(url).context["adminform"].form
    data = {
        name: "" if form.initial.get(name) is None else form.initial[name]
        for name in form.fields
    }

    response = client.post(url, {**data, "earn_cap_percent": "0"})

    assert response.status_code == 200
    assert "earn_cap_percent" in response.context["adminform"].form.errors
