"""Admin pages of membership plans, subscriptions (sell form, cancel action) and
their history: changelist, search, add and change smoke tests, and rights."""

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from rewards.models import (
    MembershipPlan,
    Subscription,
    SubscriptionEvent,
    SubscriptionStatus,
)
from rewards.services import subscription_sell
from rewards.tests.factories import MembershipPlanFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def su_client(client, admin_user):
    client.force_login(admin_user)
    return client


@pytest.fixture
def plan():
    return MembershipPlanFactory(name="Club")


@pytest.fixture
def sub(member, plan, store):
    sub, _r = subscription_sell(member=member, plan=plan, store=store, receipt_id="M-1")
    return sub


def _url(model: str, view: str, *args) -> str:
    return reverse(f"admin:rewards_{model}_{view}", args=args)


PLAN_FORM = {
    "name_uk": "Gold club",
    "description_uk": "More points",
    "is_active": "on",
    "price": "199.00",
    "period_months": "1",
    "earn_multiplier": "2.00",
    "monthly_reward": "",
    "guaranteed_tier": "",
    "refund_ends": "at_once",
}


class TestPlanAdmin:
    def test_changelist_and_search(self, su_client, plan):
        MembershipPlanFactory(name="Family")
        response = su_client.get(_url("membershipplan", "changelist"), {"q": "club"})
        assert response.status_code == 200
        assert list(response.context["cl"].result_list) == [plan]

    def test_add(self, su_client):
        response = su_client.post(_url("membershipplan", "add"), PLAN_FORM)
        assert response.status_code == 302, response.context["adminform"].form.errors
        assert MembershipPlan.objects.get().earn_multiplier == Decimal("2.00")

    def test_add_refuses_a_multiplier_below_one(self, su_client):
        response = su_client.post(
            _url("membershipplan", "add"), {**PLAN_FORM, "earn_multiplier": "0.5"}
        )
        assert response.status_code == 200
        assert not MembershipPlan.objects.exists()

    def test_change(self, su_client, plan):
        assert (
            su_client.get(_url("membershipplan", "change", plan.pk)).status_code == 200
        )
        response = su_client.post(
            _url("membershipplan", "change", plan.pk), {**PLAN_FORM, "name_uk": "Club+"}
        )
        assert response.status_code == 302
        plan.refresh_from_db()
        assert plan.name == "Club+"


class TestSubscriptionAdmin:
    def test_changelist_search_and_change_page(self, su_client, sub, member):
        response = su_client.get(
            _url("subscription", "changelist"), {"q": member.card_number}
        )
        assert response.status_code == 200
        assert list(response.context["cl"].result_list) == [sub]
        assert "Sell a membership" in response.content.decode()
        page = su_client.get(_url("subscription", "change", sub.pk))
        assert page.status_code == 200
        assert "M-1" in page.content.decode()  # the sale in the history inline

    def test_no_stock_add_form(self, su_client):
        assert su_client.get(_url("subscription", "add")).status_code == 403

    def test_sell_form_records_a_sale(self, su_client, member, plan, store):
        page = su_client.get(_url("subscription", "sell"))
        assert page.status_code == 200
        response = su_client.post(
            _url("subscription", "sell"),
            {
                "card_number": member.card_number,
                "plan": plan.pk,
                "store": store.pk,
                "receipt_id": "ADM-1",
            },
        )
        sub = Subscription.objects.get(member=member)
        assert response.status_code == 302
        assert response["Location"] == _url("subscription", "change", sub.pk)
        assert sub.events.get().receipt_id == "ADM-1"

    def test_sell_form_shows_a_refusal_on_the_form(self, su_client, sub, member, store):
        other = MembershipPlanFactory(name="Family")
        response = su_client.post(
            _url("subscription", "sell"),
            {
                "card_number": member.card_number,
                "plan": other.pk,
                "store": store.pk,
                "receipt_id": "ADM-2",
            },
        )
        assert response.status_code == 200
        assert "already has the “Club” membership" in response.content.decode()

    def test_sell_form_says_when_the_member_is_unknown(self, su_client, plan, store):
        response = su_client.post(
            _url("subscription", "sell"),
            {
                "card_number": "2799",
                "plan": plan.pk,
                "store": store.pk,
                "receipt_id": "ADM-3",
            },
        )
        assert response.status_code == 200
        assert "No member has this card number or phone." in response.content.decode()

    def test_cancel_action(self, su_client, sub):
        response = su_client.post(
            _url("subscription", "changelist"),
            {"action": "cancel_subscriptions", "_selected_action": [sub.pk]},
        )
        assert response.status_code == 302
        sub.refresh_from_db()
        assert sub.status == SubscriptionStatus.CANCELLED

    def test_the_cancel_reason_is_a_code_shown_in_the_readers_language(
        self, su_client, sub
    ):
        su_client.post(
            _url("subscription", "changelist"),
            {"action": "cancel_subscriptions", "_selected_action": [sub.pk]},
        )
        sub.refresh_from_db()
        assert (sub.reason_code, sub.reason_params) == (
            "subscription_cancelled_in_admin",
            {},
        )
        page = su_client.get(
            _url("subscription", "change", sub.pk), HTTP_ACCEPT_LANGUAGE="en"
        )
        assert "Cancelled in admin" in page.content.decode()
        # A reader in another language gets the code rendered in theirs (the
        # stored text is only the fallback for an unknown code).
        sub.cancel_reason = "stale text"
        with translation.override("en"):
            assert sub.reason_text() == "Cancelled in admin"

    def test_history_changelist(self, su_client, sub, member):
        response = su_client.get(
            _url("subscriptionevent", "changelist"), {"q": member.card_number}
        )
        assert response.status_code == 200
        assert list(response.context["cl"].result_list) == list(
            SubscriptionEvent.objects.all()
        )


class TestRights:
    def test_cashier_sells_but_cannot_cancel_or_edit_plans(
        self, client, cashier, sub, member, plan, store
    ):
        client.force_login(cashier)
        assert client.get(_url("subscription", "sell")).status_code == 200
        assert client.get(_url("membershipplan", "add")).status_code == 403
        client.post(
            _url("subscription", "changelist"),
            {"action": "cancel_subscriptions", "_selected_action": [sub.pk]},
        )
        sub.refresh_from_db()
        assert sub.status == SubscriptionStatus.ACTIVE

    def test_manager_edits_plans_and_cancels(self, client, manager, sub):
        client.force_login(manager)
        assert client.get(_url("membershipplan", "add")).status_code == 200
        client.post(
            _url("subscription", "changelist"),
            {"action": "cancel_subscriptions", "_selected_action": [sub.pk]},
        )
        sub.refresh_from_db()
        assert sub.status == SubscriptionStatus.CANCELLED

    def test_marketer_cannot_sell(self, client, marketer):
        client.force_login(marketer)
        assert client.get(_url("subscription", "sell")).status_code == 403
        assert client.get(_url("subscription", "changelist")).status_code == 200


def test_expired_member_gets_a_fresh_subscription_from_the_form(
    su_client, member, plan, store
):
    subscription_sell(
        member=member,
        plan=plan,
        store=store,
        receipt_id="OLD",
        at=timezone.now() - dt.timedelta(days=60),
    )
    su_client.post(
        _url("subscription", "sell"),
        {
            "card_number": member.phone,
            "plan": plan.pk,
            "store": store.pk,
            "receipt_id": "NEW",
        },
    )
    assert Subscription.objects.filter(member=member).count() == 2
