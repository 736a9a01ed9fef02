"""Admin pages of earning rules: the order shown, the form, activating a draft,
and the rule simulator (figures by hand, nothing written, bounded queries)."""

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from members.tests.factories import MemberFactory
from rewards.models import EarningRule, LedgerEntry, RuleKind, RuleStatus
from rewards.selectors.program import program_settings_get
from rewards.services import LineInput, purchase_record
from rewards.tests.factories import EarningRuleFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def su_client(client, admin_user):
    client.force_login(admin_user)
    return client


def _url(view: str, *args) -> str:
    return reverse(f"admin:rewards_earningrule_{view}", args=args)


RULE_FORM = {
    "name_uk": "Coffee x2",
    "kind": "multiplier",
    "status": "draft",
    "category": "coffee",
    "sku": "",
    "multiplier": "2",
    "points_per_unit": "0",
    "weekdays": ["5", "6"],
}


class TestEarningRuleAdmin:
    def test_changelist_shows_the_order_rules_apply_in(self, su_client):
        EarningRuleFactory(name="Latte x3")
        response = su_client.get(_url("changelist"))
        assert response.status_code == 200
        text = response.content.decode()
        order = [
            "Excluded SKUs and categories earn nothing",
            "Minimum spend",
            "Base rate",
            "Product multiplier",
            "Fixed bonuses",
            "Tier multiplier",
            "Membership multiplier",
            "Promotion",
        ]
        positions = [text.index(label) for label in order]
        assert positions == sorted(positions)
        assert "Latte x3" in text

    def test_search_and_filter(self, su_client):
        EarningRuleFactory(name="Latte x3", sku="LATTE", category="")
        EarningRuleFactory(name="Cakes", category="bakery")
        response = su_client.get(_url("changelist"), {"q": "latte"})
        assert [r.name for r in response.context["cl"].result_list] == ["Latte x3"]
        response = su_client.get(_url("changelist"), {"status__exact": "draft"})
        assert list(response.context["cl"].result_list) == []

    def test_add_saves_weekdays_and_stores(self, su_client, store):
        response = su_client.post(_url("add"), {**RULE_FORM, "stores": [store.pk]})
        assert response.status_code == 302, response.context["adminform"].form.errors
        rule = EarningRule.objects.get()
        assert (rule.weekdays, rule.status) == ("56", RuleStatus.DRAFT)
        assert list(rule.stores.all()) == [store]
        page = su_client.get(_url("change", rule.pk))
        assert page.context["adminform"].form.initial["weekdays"] == ["5", "6"]

    @pytest.mark.parametrize(
        ("change", "field", "message"),
        [
            ({"category": ""}, None, "Name the category or the SKU"),
            ({"multiplier": "1"}, "multiplier", "A multiplier of 1 changes nothing"),
            ({"kind": "fixed"}, "points_per_unit", "Give the bonus points per unit"),
        ],
    )
    def test_add_refuses_rules_that_cannot_work(
        self, su_client, change, field, message
    ):
        response = su_client.post(_url("add"), {**RULE_FORM, **change})
        assert response.status_code == 200
        form = response.context["adminform"].form
        errors = form.errors.get(field or "__all__", [])
        assert any(message in e for e in errors), form.errors
        assert not EarningRule.objects.exists()

    def test_activating_a_draft_pauses_the_rule_it_replaces(self, su_client):
        old = EarningRuleFactory(name="Coffee x2")
        draft = EarningRuleFactory(
            name="Coffee x3",
            status=RuleStatus.DRAFT,
            multiplier=Decimal(3),
            replaces=old,
        )
        response = su_client.post(
            _url("changelist"),
            {"action": "activate", "_selected_action": [draft.pk]},
        )
        assert response.status_code == 302
        old.refresh_from_db()
        draft.refresh_from_db()
        assert (old.status, draft.status) == (RuleStatus.PAUSED, RuleStatus.ACTIVE)

    def test_a_cashier_sees_rules_but_cannot_change_them(self, client, cashier):
        rule = EarningRuleFactory()
        client.force_login(cashier)
        assert client.get(_url("changelist")).status_code == 200
        assert client.post(_url("change", rule.pk), RULE_FORM).status_code == 403


COFFEE = LineInput(
    sku="LATTE", quantity=Decimal(2), unit_price=Decimal("50.00"), category="coffee"
)
CAKE = LineInput(
    sku="CAKE", quantity=Decimal(1), unit_price=Decimal("80.00"), category="bakery"
)


@pytest.fixture
def history(store):
    """Four receipts in October by three members; one of them bought no coffee."""
    a, b, c = (MemberFactory(store=store) for _ in range(3))
    october = timezone.make_aware(dt.datetime(2026, 10, 10, 12))
    for i, (member, lines) in enumerate(
        [(a, [COFFEE, CAKE]), (a, [COFFEE]), (b, [COFFEE]), (c, [CAKE])]
    ):
        purchase_record(
            store=store,
            member=member,
            receipt_id=f"H{i}",
            lines=lines,
            occurred_at=october + dt.timedelta(days=i),
        )
    purchase_record(  # outside the period
        store=store,
        member=c,
        receipt_id="LATE",
        lines=[COFFEE],
        occurred_at=timezone.make_aware(dt.datetime(2026, 11, 20, 12)),
    )
    return a, b, c


class TestSimulator:
    def _simulate(self, client, rule, **extra):
        return client.get(
            _url("simulate"),
            {"rule": rule.pk, "start": "2026-10-01", "end": "2026-10-31", **extra},
        )

    def test_a_draft_shows_points_members_and_money_without_writing(
        self, su_client, history, django_assert_max_num_queries
    ):
        draft = EarningRuleFactory(
            name="Coffee x3", status=RuleStatus.DRAFT, multiplier=Decimal(3)
        )
        entries = LedgerEntry.objects.count()
        with django_assert_max_num_queries(20):
            response = self._simulate(su_client, draft)
        result = response.context["result"]
        # three coffee receipts of 100 UAH: 100 → 300 points each
        assert (result.purchases, result.purchases_changed) == (4, 3)
        assert result.members_changed == 2
        assert (result.points_before, result.points_after) == (460, 1060)
        assert result.money_difference == Decimal("60.00")  # 600 × 0.10
        assert "+600" in response.content.decode()
        assert LedgerEntry.objects.count() == entries
        draft.refresh_from_db()
        assert draft.status == RuleStatus.DRAFT

    def test_a_draft_shows_the_effective_reward_rate_with_and_without_it(
        self, su_client, history
    ):
        draft = EarningRuleFactory(
            name="Coffee x3", status=RuleStatus.DRAFT, multiplier=Decimal(3)
        )
        response = self._simulate(su_client, draft)
        result = response.context["result"]
        # 460 UAH of receipts: 460 points × 0.10 = 10 %, 1060 points = 23.04 %
        assert result.sales == Decimal("460.00")
        assert (result.rate_before, result.rate_after) == (
            Decimal("10.00"),
            Decimal("23.04"),
        )
        assert result.cap_percent is None
        html = response.content.decode()
        assert 'data-testid="rate-before">10%' in html
        assert 'data-testid="rate-after">23.04%' in html
        assert 'data-testid="capped"' not in html

    def test_the_rates_are_under_today_s_cap(self, su_client, history):
        conf = program_settings_get()
        conf.earn_cap_percent = Decimal("15")
        conf.save()
        draft = EarningRuleFactory(
            name="Coffee x3", status=RuleStatus.DRAFT, multiplier=Decimal(3)
        )
        response = self._simulate(su_client, draft)
        result = response.context["result"]
        # At most 15 % of each receipt: 180 UAH → 270 (not 380), 100 UAH → 150
        # (not 300) twice, 80 UAH → 80.
        assert (result.points_before, result.points_after) == (460, 650)
        assert (result.capped_before, result.capped_after) == (0, 410)
        assert result.rate_after == Decimal("14.13")
        assert 'data-testid="capped">0 → 410' in response.content.decode()

    def test_a_change_is_compared_with_the_rule_it_replaces(self, su_client, history):
        active = EarningRuleFactory(name="Coffee x2", multiplier=Decimal(2))
        change = EarningRuleFactory(
            name="Coffee x3",
            status=RuleStatus.DRAFT,
            multiplier=Decimal(3),
            replaces=active,
        )
        result = self._simulate(su_client, change).context["result"]
        assert (result.points_before, result.points_after) == (760, 1060)

    def test_switching_off_an_active_rule(self, su_client, history, store):
        promo = EarningRuleFactory(
            name="Cake day",
            kind=RuleKind.PROMOTION,
            category="bakery",
            multiplier=Decimal(2),
            stores=[store],
        )
        result = self._simulate(su_client, promo, store=store.pk).context["result"]
        assert result.switching_off
        assert result.points_difference == -160
        assert result.members_changed == 2

    def test_a_marketer_may_simulate_and_bad_dates_are_form_errors(
        self, client, marketer, history
    ):
        client.force_login(marketer)
        rule = EarningRuleFactory(status=RuleStatus.DRAFT)
        response = client.get(
            _url("simulate"),
            {"rule": rule.pk, "start": "2026-10-31", "end": "2026-10-01"},
        )
        assert response.status_code == 200
        assert response.context["result"] is None
        assert (
            "The end must be after the start." in response.context["form"].errors["end"]
        )
