"""The portal pages that combine apps (loyalty_site.views.portal): the landing
page a visitor reads and the dashboard a new member starts from."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils.html import escape

from members.formatting import money_format, percent_format
from rewards.models import BonusSettings, VoucherSource
from rewards.services import program_settings_ensure, purchase_record, voucher_grant
from rewards.tests.factories import RewardFactory, StampProgramFactory, TierFactory

pytestmark = pytest.mark.django_db

HOME = reverse("portal:home")
DASHBOARD = reverse("portal:dashboard")


@pytest.fixture
def logged_in(client, customer):
    user, member = customer
    client.force_login(user)
    return client, member


# --- the landing page -------------------------------------------------------------


def test_landing_tells_a_visitor_what_the_program_gives(client):
    TierFactory(name="Bronze", rank=1, benefits="Birthday coffee")
    TierFactory(
        name="Gold",
        rank=2,
        threshold=Decimal("5000"),
        earn_multiplier=Decimal("1.5"),
        benefits="Free delivery",
    )
    RewardFactory(name="Free coffee", points_cost=150)
    RewardFactory(name="Hidden", points_cost=10, is_active=False)
    BonusSettings.objects.update_or_create(pk=1, defaults={"welcome_points": 50})

    page = client.get(HOME).content.decode()

    # Points per purchase and what a point is worth (defaults: 1 per UAH, 0.10 UAH).
    assert "1 per 1\xa0UAH spent" in page
    worth = money_format(Decimal("0.10"), "UAH")
    back = percent_format(Decimal("10"))
    assert (
        escape(f"Each point takes {worth} off a purchase at the till: {back} ") in page
    )
    assert "get 50 points as a welcome gift" in page
    # Rewards on offer, not the inactive one.
    assert "Free coffee" in page and "150 points" in page
    assert "Hidden" not in page
    # Tiers with their thresholds and perks; a tier without one says no "Reach 0".
    assert "Reach 5,000.00\u00a0UAH in 12 months." in page
    assert "Points × 1.5 on every purchase." in page
    assert "Free delivery" in page and "Birthday coffee" in page
    assert "Yours with your first purchase." in page
    assert "Reach 0" not in page
    # How to join, both ways, with the calls to action.
    assert "How to join" in page and "At the till" in page
    assert page.count(f'href="{reverse("portal:signup")}"') >= 2
    assert f'href="{reverse("login")}"' in page


def test_landing_without_tiers_rewards_or_bonus_still_explains_earning(client):
    page = client.get(HOME).content.decode()

    assert "1 per 1\xa0UAH spent" in page
    assert 'data-testid="landing-tiers"' not in page
    assert 'data-testid="landing-rewards"' not in page
    assert 'data-testid="landing-welcome"' not in page


def test_landing_query_count_does_not_grow_with_rewards_and_tiers(
    client, django_assert_max_num_queries
):
    # The settings row as every database has it (migration 0002). A transactional
    # test run earlier in this process empties the table; without the row there
    # is no config_version to hold the earn configuration by, so every request
    # would read it again (4 queries more, the same however many rows).
    program_settings_ensure()
    TierFactory(rank=1)
    RewardFactory()
    client.get(HOME)  # the process reads its earn config
    # Program settings, bonus settings, rewards; tiers from the earn config.
    with django_assert_max_num_queries(4) as few:
        client.get(HOME)
    first = len(few.captured_queries)  # the next request empties the log
    TierFactory(rank=2, threshold=Decimal("100"))
    RewardFactory.create_batch(10)
    client.get(HOME)  # the process reads the changed earn config
    with django_assert_max_num_queries(first):
        client.get(HOME)


# --- a new member's dashboard ------------------------------------------------------


def test_a_new_member_sees_where_to_start(logged_in):
    client, _member = logged_in
    StampProgramFactory()

    page = client.get(DASHBOARD).content.decode()

    assert 'data-testid="getting-started"' in page
    assert "every purchase earns points (1 per 1\xa0UAH)" in page
    for name in ("portal:card", "catalog:catalog", "portal:profile"):
        assert f'href="{reverse(name)}"' in page
    assert "No vouchers yet." in page
    assert 'data-testid="no-stamp-cards"' in page
    assert 'data-testid="no-activity"' in page


def test_the_start_guide_goes_once_the_member_has_activity(logged_in, store):
    client, member = logged_in
    purchase_record(store=store, member=member, receipt_id="r1", total="100.00")

    page = client.get(DASHBOARD).content.decode()

    assert 'data-testid="getting-started"' not in page
    assert 'data-testid="no-activity"' not in page
    assert "No vouchers yet." not in page


def test_a_new_member_with_a_gift_voucher_is_told_to_use_it(logged_in):
    client, member = logged_in
    voucher_grant(
        member=member,
        reward=RewardFactory(name="Birthday cake"),
        source=VoucherSource.BIRTHDAY,
        idempotency_key="gift-1",
    )

    page = client.get(DASHBOARD).content.decode()

    assert "You have 1 voucher to use at the till." in page
    assert "No vouchers yet." not in page
