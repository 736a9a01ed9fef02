"""Customer pages: why a purchase earned what it did; pending and expiring points."""

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from rewards.selectors.program import program_settings_get
from rewards.services import LineInput, points_bonus_grant, purchase_record
from rewards.tests.factories import EarningRuleFactory, TierFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def logged_in(client, customer):
    user, member = customer
    client.force_login(user)
    return client, member


def test_statement_explains_why_a_purchase_earned_its_points(logged_in, store):
    client, member = logged_in
    EarningRuleFactory(name="Coffee week", category="coffee", multiplier=Decimal(2))
    purchase_record(
        store=store,
        member=member,
        receipt_id="R1",
        lines=[
            LineInput(
                sku="LATTE",
                quantity=Decimal(2),
                unit_price=Decimal("50"),
                category="coffee",
            )
        ],
    )
    page = client.get(reverse("rewards:statement")).content.decode()
    assert "Why you got these points" in page
    assert "Base rate: 1 per 1\u00a0UAH" in page
    assert "Coffee week (×2)" in page


def test_statement_names_rules_and_tiers_in_the_readers_language(logged_in, store):
    """The breakdown keeps the rule's and the tier's ids: a reader sees their
    current names in the reader's language, not the words of the day and the
    language the purchase was recorded in."""
    client, member = logged_in
    rule = EarningRuleFactory(
        name_uk="Кавовий тиждень",
        name_en="Coffee week",
        category="coffee",
        multiplier=Decimal(2),
    )
    gold = TierFactory(name_uk="Золото", name_en="Gold", earn_multiplier=Decimal(2))
    member.account.tier = gold
    member.account.save()
    with translation.override("uk"):
        purchase_record(
            store=store,
            member=member,
            receipt_id="R1",
            lines=[
                LineInput(
                    sku="LATTE",
                    quantity=Decimal(1),
                    unit_price=Decimal("100"),
                    category="coffee",
                )
            ],
        )
    rule.name_en = "Coffee fortnight"  # renamed since
    rule.save()
    page = client.get(
        reverse("rewards:statement"), HTTP_ACCEPT_LANGUAGE="en"
    ).content.decode()
    assert "Coffee fortnight (×2)" in page
    assert "Gold tier (×2)" in page
    assert "Кавовий" not in page and "Золото" not in page


def test_dashboard_says_what_is_pending_and_what_expires_when(logged_in, store):
    client, member = logged_in
    conf = program_settings_get()
    conf.points_expire_months = 12
    conf.pending_days = 14
    conf.save()
    points_bonus_grant(
        member=member,
        points=40,
        reason="old",
        idempotency_key="b1",
        recorded_at=timezone.now() - dt.timedelta(days=360),
    )
    purchase_record(store=store, member=member, receipt_id="R1", total="100.00")
    page = client.get(reverse("portal:dashboard")).content.decode()
    assert "100 points are pending after a recent purchase" in page
    assert "40 points expire on" in page
