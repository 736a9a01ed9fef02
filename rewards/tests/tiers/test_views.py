"""Customer pages of tiers: the dashboard's progress to the next tier, the tiers page
and the catalog's tier badge."""

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from members.formatting import date_format
from rewards.services import purchase_record, subscription_sell, tiers_downgrade_due
from rewards.tests.factories import MembershipPlanFactory, RewardFactory, TierFactory

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


def _buy(member, store, total, receipt, **kw):
    return purchase_record(
        store=store, member=member, receipt_id=receipt, total=total, **kw
    )


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


def test_dashboard_says_nothing_about_keeping_a_tier_already_safe(
    logged_in, store, tiers
):
    client, member = logged_in
    _buy(member, store, "1200.00", "r1")

    page = client.get(reverse("portal:dashboard")).content.decode()

    assert 'data-testid="tier-name">Silver<' in page
    assert "You are in the highest tier." in page
    assert 'data-testid="tier-keep"' not in page
    assert "stays yours while you reach" not in page


def test_dashboard_says_what_to_spend_by_when_to_keep_a_tier(logged_in, store, tiers):
    """Below the threshold: the amount missing and the day the nightly
    downgrade would move the member down (the grace days after it started)."""
    client, member = logged_in
    long_ago = timezone.now() - dt.timedelta(days=400)
    _buy(member, store, "1000.00", "r1", occurred_at=long_ago, recorded_at=long_ago)
    _buy(member, store, "300.00", "r2")
    today = timezone.localdate()
    assert tiers_downgrade_due(today=today) == 0  # the grace period starts
    member.account.refresh_from_db()
    assert member.account.tier_lapsed_on == today
    deadline = today + dt.timedelta(days=tiers[1].grace_days)

    page = client.get(reverse("portal:dashboard")).content.decode()

    assert 'data-testid="tier-name">Silver<' in page
    assert (
        f"To keep Silver, spend 700.00\u00a0UAH more by "
        f"{date_format(deadline)}." in page
    )


def test_a_membership_that_guarantees_the_tier_needs_nothing_to_keep_it(
    logged_in, store, tiers
):
    client, member = logged_in
    long_ago = timezone.now() - dt.timedelta(days=400)
    _buy(member, store, "1000.00", "r1", occurred_at=long_ago, recorded_at=long_ago)
    plan = MembershipPlanFactory(guaranteed_tier=tiers[1])
    subscription_sell(member=member, plan=plan, store=store, receipt_id="M-1")

    subscription = member.subscriptions.get()
    ends = date_format(timezone.localtime(subscription.current_period_end).date())
    kept = f"Your {plan.name} membership keeps Silver for you until {ends}."

    for url in (reverse("portal:dashboard"), reverse("catalog:tiers")):
        page = client.get(url).content.decode()

        assert 'data-testid="tier-name">Silver<' in page, url
        assert "To keep Silver" not in page, url
        assert kept in page, url


def test_a_membership_for_a_lower_tier_does_not_keep_a_higher_one(
    logged_in, store, tiers
):
    client, member = logged_in
    long_ago = timezone.now() - dt.timedelta(days=400)
    _buy(member, store, "1000.00", "r1", occurred_at=long_ago, recorded_at=long_ago)
    plan = MembershipPlanFactory(guaranteed_tier=tiers[0])
    subscription_sell(member=member, plan=plan, store=store, receipt_id="M-1")

    page = client.get(reverse("catalog:tiers")).content.decode()

    assert "To keep Silver, spend 1,000.00\u00a0UAH more by " in page
    assert "membership keeps" not in page


def test_a_new_member_sees_an_empty_bar_towards_the_first_tier(logged_in, tiers):
    client, _member = logged_in

    page = client.get(reverse("portal:dashboard")).content.decode()

    assert 'data-testid="tier-name">No tier yet<' in page
    assert 'aria-valuenow="0"' in page and 'data-width-percent="0"' in page
    assert "Your next purchase makes you Bronze." in page
    assert "0.00\u00a0UAH" not in page


def test_a_new_member_bar_measures_a_first_tier_with_a_threshold(logged_in, store):
    TierFactory(name="Silver", rank=2, threshold=Decimal("1000"))
    client, member = logged_in
    purchase_record(store=store, member=member, receipt_id="r1", total="250.00")

    page = client.get(reverse("portal:dashboard")).content.decode()

    assert 'data-testid="tier-name">No tier yet<' in page
    assert 'data-width-percent="25"' in page
    assert "Spend 750.00\u00a0UAH more by " in page


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
    # session, user, member, program settings (once), 1 tier aggregate,
    # the membership in force (its plan and guaranteed tier joined)
    with django_assert_max_num_queries(6):
        response = client.get(reverse("catalog:tiers"))
    assert "Silver" in response.content.decode()


def test_tiers_page_lists_tiers_and_benefits(logged_in, tiers):
    client, _member = logged_in
    page = client.get(reverse("catalog:tiers")).content.decode()
    assert "Reach 1,000.00\u00a0UAH in 12 months." in page
    # Bronze has no threshold: no "Reach 0.00 UAH".
    assert "Yours with your first purchase." in page
    assert "Reach 0" not in page
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


@pytest.mark.parametrize(
    ("language", "shown"), [("en", "76%"), ("uk", "76%"), ("ro", "76\u00a0%")]
)
def test_the_bar_writes_its_percent_in_the_locale(
    logged_in, store, tiers, language, shown
):
    client, member = logged_in
    _buy(member, store, "760.00", "r1")

    page = client.get(
        reverse("portal:dashboard"), HTTP_ACCEPT_LANGUAGE=language
    ).content.decode()

    assert f'data-width-percent="76">{shown}</div>' in page
