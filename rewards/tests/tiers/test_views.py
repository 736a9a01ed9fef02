"""Customer pages of tiers: the dashboard's progress to the next tier, the tiers page
and the catalog's tier badge."""

from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from members.formatting import date_format
from rewards.services import purchase_record
from rewards.tests.factories import RewardFactory, TierFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def tiers():
    return [
        TierFactory(name="Bronze", rank=1, benefits="Birthday coffee"),
        TierFactory(
            name="Silver",
            rank=2,
            threshold=Decimal("1000"),
            earn_multiplier=Decimal("1.25"),
            benefits="Free delivery",
        ),
    ]


@pytest.fixture
def logged_in(client, customer):
    user, member = customer
    client.force_login(user)
    return client, member


def _buy(member, store, total, receipt):
    return purchase_record(store=store, member=member, receipt_id=receipt, total=total)


def test_dashboard_shows_tier_progress_sentence_and_bar(logged_in, store, tiers):
    client, member = logged_in
    purchase, _replayed = _buy(member, store, "760.00", "r1")
    deadline = timezone.localtime(purchase.occurred_at).date()
    deadline = deadline.replace(year=deadline.year + 1)

    page = client.get(reverse("portal:dashboard")).content.decode()

    assert 'data-testid="tier-name">Bronze<' in page
    assert (
        f"Spend 240.00\u00a0UAH more by {date_format(deadline)} to reach Silver."
        in page
    )
    assert 'aria-valuenow="76"' in page
    assert 'data-width-percent="76"' in page
    assert "Birthday coffee" in page
    assert "Bronze is yours to keep." in page


def test_dashboard_says_what_keeps_a_tier_with_a_threshold(logged_in, store, tiers):
    client, member = logged_in
    _buy(member, store, "1200.00", "r1")

    page = client.get(reverse("portal:dashboard")).content.decode()

    assert 'data-testid="tier-name">Silver<' in page
    assert "You are in the highest tier." in page
    assert (
        "Silver stays yours while you reach 1,000.00\u00a0UAH in 12 months; "
        "you have 1,200.00\u00a0UAH now." in page
    )


def test_dashboard_without_tiers_shows_no_tier_card(logged_in):
    client, _member = logged_in
    page = client.get(reverse("portal:dashboard")).content.decode()
    assert 'data-testid="tier-card"' not in page


def test_dashboard_query_count_is_bounded(
    logged_in, store, tiers, django_assert_max_num_queries
):
    client, member = logged_in
    for i in range(12):
        _buy(member, store, "100.00", f"r{i}")
    client.get(reverse("portal:dashboard"))  # the process reads its earn config
    # As with one purchase: session, user, member, program settings, entries,
    # 1 tier aggregate, 2 for the points lots, 1 membership. The tiers come with
    # the process's earn configuration, the settings are read once, no stamp
    # program means no stamp card query, the survey is cached.
    with django_assert_max_num_queries(9):
        response = client.get(reverse("portal:dashboard"))
    assert response.status_code == 200
    assert 'data-testid="tier-card"' in response.content.decode()


def test_dashboard_shows_a_tier_added_since_the_last_visit(logged_in, store, tiers):
    client, member = logged_in
    _buy(member, store, "1200.00", "r1")
    assert (
        "You are in the highest tier."
        in client.get(reverse("portal:dashboard")).content.decode()
    )

    TierFactory(name="Gold", rank=3, threshold=Decimal("5000"))

    page = client.get(reverse("portal:dashboard")).content.decode()
    assert "You are in the highest tier." not in page
    assert "to reach Gold." in page


def test_tiers_page_query_count(logged_in, store, tiers, django_assert_max_num_queries):
    client, member = logged_in
    _buy(member, store, "100.00", "r1")
    client.get(reverse("catalog:tiers"))  # the process reads its earn config
    # session, user, member, program settings (once), 1 tier aggregate
    with django_assert_max_num_queries(5):
        response = client.get(reverse("catalog:tiers"))
    assert "Silver" in response.content.decode()


def test_tiers_page_lists_tiers_and_benefits(logged_in, tiers):
    client, _member = logged_in
    page = client.get(reverse("catalog:tiers")).content.decode()
    assert "Reach 1,000.00\u00a0UAH in 12 months." in page
    assert "Points × 1.25 on every purchase." in page
    assert "Free delivery" in page


def test_catalog_marks_rewards_kept_for_other_tiers(logged_in, store, tiers):
    client, member = logged_in
    _buy(member, store, "500.00", "r1")
    lounge = RewardFactory(name="Lounge pass", points_cost=100)
    lounge.tiers.set([tiers[1]])

    page = client.get(reverse("catalog:catalog")).content.decode()

    assert "Only for Silver" in page
    assert "For members of Silver" in page
