"""Customer pages of paid membership: the dashboard's status and /membership/."""

import pytest
from django.urls import reverse

from rewards.services import subscription_cancel, subscription_sell
from rewards.tests.factories import MembershipPlanFactory, RewardFactory, TierFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def logged_in(client, customer):
    user, member = customer
    client.force_login(user)
    return client, member


@pytest.fixture
def plan():
    return MembershipPlanFactory(
        name="Club",
        monthly_reward=RewardFactory(name="Coffee"),
        guaranteed_tier=TierFactory(name="Silver", rank=2),
    )


def test_dashboard_shows_the_membership_and_its_perks(logged_in, plan, store):
    client, member = logged_in
    subscription_sell(member=member, plan=plan, store=store, receipt_id="M-1")

    page = client.get(reverse("portal:dashboard")).content.decode()

    assert "Club member" in page
    assert "Your membership lasts until" in page
    assert "Points × 1.5 on every purchase" in page
    assert "A free “Coffee” voucher every month." in page
    assert "At least the Silver tier while it lasts." in page


def test_dashboard_without_membership_links_to_the_plans(logged_in, plan):
    client, _member = logged_in

    page = client.get(reverse("portal:dashboard")).content.decode()

    assert "See the membership plans" in page
    assert reverse("catalog:membership") in page


def test_membership_page_lists_plans_to_buy_at_the_counter(logged_in, plan):
    client, _member = logged_in
    MembershipPlanFactory(name="Retired", is_active=False)

    response = client.get(reverse("catalog:membership"))

    assert response.status_code == 200
    page = response.content.decode()
    assert "Club" in page
    assert "Retired" not in page
    assert "99.00\u00a0UAH a month" in page
    assert "sold at the counter" in page


def test_membership_page_shows_the_current_one_until_cancelled(logged_in, plan, store):
    client, member = logged_in
    sub, _r = subscription_sell(member=member, plan=plan, store=store, receipt_id="M")

    assert (
        "You are a Club member"
        in client.get(reverse("catalog:membership")).content.decode()
    )
    subscription_cancel(subscription=sub, by=None)
    assert (
        "You are a Club member"
        not in client.get(reverse("catalog:membership")).content.decode()
    )


def test_membership_page_needs_a_login(client):
    response = client.get(reverse("catalog:membership"))

    assert response.status_code == 302
