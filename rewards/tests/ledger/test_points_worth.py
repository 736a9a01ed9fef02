"""Every page that says what a balance is worth counts only the points that can
be spent now, and says the pending ones apart: the till would refuse the rest
("6003 can be spent now, 2756 more are pending")."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from rewards.selectors.ledger import points_discount
from rewards.selectors.program import program_settings_get
from rewards.services import points_redeem, purchase_record

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english(settings):
    settings.LANGUAGE_CODE = "en"


@pytest.fixture
def with_pending(store, customer):
    """100 points spendable, 40 pending (1 point per UAH, 0.10 UAH a point)."""
    _user, member = customer
    conf = program_settings_get()
    conf.points_per_unit, conf.min_purchase = Decimal("1"), Decimal("0")
    conf.point_value = Decimal("0.10")
    conf.save()
    purchase_record(store=store, member=member, receipt_id="old", total="100")
    conf = program_settings_get()
    conf.pending_days = 14
    conf.save()
    purchase_record(store=store, member=member, receipt_id="new", total="40")
    member.account.refresh_from_db()
    assert member.account.balance == 140
    return member


def _dashboard(client, member, cashier):
    client.force_login(member.user)
    return client.get(reverse("portal:dashboard")).content.decode()


def _counter(client, member, cashier):
    client.force_login(cashier)
    return client.get(
        reverse("admin:counter_member", args=[member.pk])
    ).content.decode()


def _api(client, member, cashier):
    from rest_framework.test import APIClient

    from members.services import api_token_create

    _token, raw = api_token_create(store=member.home_store, name="till 9")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {raw}")
    body = api.get(f"/api/v1/members/{member.card_number}").json()
    return f"{body['points_spendable']} spendable, {body['points_pending']} pending"


# Each surface: how to read it, what it must say, what it must not.
SURFACES = {
    "portal dashboard": (
        _dashboard,
        ["10.00\u00a0UAH", "40 points are pending"],
        ["14.00"],
    ),
    "Counter": (_counter, ["10.00\u00a0UAH", "40 more points are pending"], ["14.00"]),
    "till API": (_api, ["100 spendable, 40 pending"], []),
}


@pytest.mark.parametrize("surface", SURFACES)
def test_worth_counts_what_can_be_spent_now(client, with_pending, cashier, surface):
    read, present, absent = SURFACES[surface]
    text = read(client, with_pending, cashier)
    for expected in present:
        assert expected in text
    for wrong in absent:
        assert wrong not in text


def test_the_till_takes_exactly_what_the_pages_offer(with_pending, store):
    # The worth shown is what redeeming the spendable points gives.
    redemption, _created = points_redeem(
        store=store, member=with_pending, points=100, receipt_id="R-1"
    )
    assert redemption.discount == Decimal("10.00")
    assert points_discount(100, program_settings_get().point_value) == Decimal("10.00")


def test_points_discount_rounds_down_to_the_cent():
    assert points_discount(7, Decimal("0.125")) == Decimal("0.87")
    assert points_discount(-5, Decimal("0.10")) == Decimal("0.00")
