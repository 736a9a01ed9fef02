"""The customer's “Recommended for you” page."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from analytics.models import RewardCategory
from analytics.services.recommend import copurchase_refresh
from analytics.tests.recs_data import Line, members_make, purchases_make
from rewards.models import PointsAccount
from rewards.tests.factories import RewardFactory

pytestmark = pytest.mark.django_db

FOR_YOU = reverse("analytics:for_you")


def _shop(store, member, others):
    now = timezone.now()
    specs = []
    for person in others:
        for d in range(1, 4):
            specs.append(
                (
                    person,
                    now - dt.timedelta(days=d),
                    None,
                    [Line("LATTE", "coffee"), Line("CROISSANT", "bakery")],
                    None,
                )
            )
    for d in range(1, 6):
        specs.append(
            (
                member,
                now - dt.timedelta(days=d * 3),
                None,
                [Line("LATTE", "coffee")],
                None,
            )
        )
        specs.append(
            (
                member,
                now - dt.timedelta(days=d * 3 + 1),
                None,
                [Line("JAM", "grocery")],
                None,
            )
        )
    purchases_make(store, specs)
    copurchase_refresh()


def test_page_shows_recommendations_and_a_reward(client, customer, store):
    user, member = customer
    _shop(store, member, members_make(3, store))
    coffee = RewardFactory(name="Free coffee", points_cost=150)
    RewardCategory.objects.create(reward=coffee, category="coffee")
    PointsAccount.objects.filter(member=member).update(balance=140)
    client.force_login(user)
    response = client.get(FOR_YOU)
    assert response.status_code == 200
    page = response.content.decode()
    assert "Item CROISSANT" in page
    assert "Often bought with Item LATTE" in page
    assert 'data-testid="reward-suggestion"' in page
    assert "Free coffee" in page and "Only 10 points to go." in page


def test_page_query_count_is_bounded(
    client, customer, store, django_assert_max_num_queries
):
    user, member = customer
    _shop(store, member, members_make(3, store))
    client.force_login(user)
    client.get(FOR_YOU)
    # session, user, member; history 3, tables 4, account, rewards 2 (+ savepoints)
    with django_assert_max_num_queries(15):
        response = client.get(FOR_YOU)
    assert len(response.context["recommendations"]) == 3  # LATTE, JAM, CROISSANT


def test_new_member_gets_a_friendly_empty_page(client, customer):
    user, _member = customer
    client.force_login(user)
    page = client.get(FOR_YOU).content.decode()
    assert 'data-testid="no-recommendations"' in page


def test_anonymous_visitor_is_sent_to_log_in(client):
    response = client.get(FOR_YOU)
    assert response.status_code == 302
    assert reverse("login") in response["Location"]


def test_staff_login_without_membership_gets_the_no_member_page(client, manager):
    client.force_login(manager)
    assert client.get(FOR_YOU).status_code == 403


def test_dashboard_and_menu_link_to_the_page(client, customer):
    user, _member = customer
    client.force_login(user)
    page = client.get(reverse("portal:dashboard")).content.decode()
    assert 'data-testid="for-you-card"' in page
    assert page.count(f'href="{FOR_YOU}"') == 2  # the menu and the card
