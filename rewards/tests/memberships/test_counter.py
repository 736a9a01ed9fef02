"""Selling a paid membership at the Counter."""

import pytest
from django.urls import reverse

from members.tests.factories import MemberFactory
from rewards.models import Subscription, SubscriptionEvent
from rewards.tests.factories import MembershipPlanFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def cashier_client(client, cashier):
    client.force_login(cashier)
    return client


@pytest.fixture
def plan():
    return MembershipPlanFactory(name="Club")


def _sell(client, member, plan, receipt_id="CM-1"):
    data = {"membership-plan": plan.pk, "membership-receipt_id": receipt_id}
    return client.post(reverse("admin:counter_membership", args=[member.pk]), data)


def _messages(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def test_panel_offers_the_sale(cashier_client, member, plan):
    page = cashier_client.get(reverse("admin:counter_member", args=[member.pk]))

    text = page.content.decode()
    assert "Sell membership" in text
    assert "No paid membership." in text


def test_sale_starts_a_membership_and_a_double_click_replays(
    cashier_client, member, plan
):
    first = _sell(cashier_client, member, plan)
    again = _sell(cashier_client, member, plan)

    assert first.status_code == 302
    assert Subscription.objects.filter(member=member).count() == 1
    assert SubscriptionEvent.objects.exclude(receipt_id="").count() == 1
    followed = cashier_client.get(first["Location"])
    assert "Club until" in followed.content.decode()
    assert again.status_code == 302


def test_refusal_shows_on_the_form(cashier_client, member, plan, store):
    _sell(cashier_client, member, plan)
    other = MembershipPlanFactory(name="Family")

    response = _sell(cashier_client, member, other, receipt_id="CM-2")

    assert response.status_code == 200
    assert "already has the “Club” membership" in response.content.decode()


def test_marketer_cannot_sell(client, marketer, plan, store):
    member = MemberFactory(store=store)
    client.force_login(marketer)

    response = _sell(client, member, plan)

    assert response.status_code == 403
