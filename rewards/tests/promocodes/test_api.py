"""The till API for promo codes: validate, and promo_code on a purchase."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from members.tests.factories import MemberFactory
from rewards.models import PromoCodeUse, PromoEffect
from rewards.selectors.program import program_settings_get
from rewards.tests.factories import PromoCodeFactory

pytestmark = pytest.mark.django_db

PURCHASES = reverse("api-v1:purchase-create")


def validate_url(code: str) -> str:
    return f"/api/v1/promo-codes/{code}/validate"


@pytest.fixture(autouse=True)
def program(db):
    conf = program_settings_get()
    conf.points_per_unit, conf.min_purchase = Decimal("1"), Decimal("0")
    conf.point_value = Decimal("0.10")
    conf.save()
    return conf


@pytest.fixture
def till(api_client):
    api_client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return api_client


@pytest.fixture
def member(store):
    return MemberFactory(store=store)


def test_validate_answers_the_discount_for_the_basket(till, member):
    PromoCodeFactory(
        code="MINUS15",
        effect=PromoEffect.DISCOUNT_PERCENT,
        points=None,
        discount_percent=Decimal("15"),
    )
    response = till.post(
        validate_url("minus-15"),
        {"card_number": member.card_number, "total": "200.00"},
        format="json",
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["code"] == "MINUS15"
    assert body["effect"] == "discount_percent"
    assert (body["discount"], body["total_to_pay"]) == ("30.00", "170.00")
    assert (body["bonus_points"], body["multiplier"], body["reward"]) == (0, None, None)
    assert not PromoCodeUse.objects.exists()  # validating uses nothing


def test_validate_names_the_field_and_the_reason(till, member):
    PromoCodeFactory(code="BIG", min_spend=Decimal("500"))
    response = till.post(
        validate_url("BIG"),
        {"card_number": member.card_number, "total": "100.00"},
        format="json",
    )
    assert response.status_code == 400
    body = response.json()
    assert body["reason"] == "below_min_spend"
    assert body["errors"]["code"] == [body["detail"]]
    assert "at least" in body["detail"]


def test_validate_of_an_unknown_code_is_a_404(till, member):
    response = till.post(
        validate_url("NOPE"),
        {"card_number": member.card_number, "total": "1.00"},
        format="json",
    )
    assert response.status_code == 404
    assert response.json()["reason"] == "unknown"


def test_validate_speaks_the_tills_language(till, member):
    PromoCodeFactory(code="OFF", active=False)
    response = till.post(
        validate_url("OFF"),
        {"card_number": member.card_number, "total": "1.00"},
        format="json",
        HTTP_ACCEPT_LANGUAGE="uk",
    )
    assert response.status_code == 400
    assert response.json()["reason"] == "inactive"


def test_purchase_with_a_code_answers_what_it_gave(till, member):
    PromoCodeFactory(code="SPRING25", points=250)
    body = {
        "card_number": member.card_number,
        "receipt_id": "R-1",
        "total": "100.00",
        "promo_code": "spring25",
    }
    response = till.post(PURCHASES, body, format="json")
    assert response.status_code == 201, response.json()
    data = response.json()
    assert data["points_earned"] == 100
    assert data["points_balance"] == 350
    assert data["promo_code"] == {
        "code": "SPRING25",
        "effect": "bonus_points",
        "bonus_points": 250,
        "discount": "0.00",
        "voucher": None,
        "reversed": False,
    }
    replay = till.post(PURCHASES, body, format="json")
    assert replay.status_code == 200
    assert replay.json() == data
    assert PromoCodeUse.objects.count() == 1


def test_purchase_with_a_used_up_code_is_a_409_naming_promo_code(till, member):
    PromoCodeFactory(code="ONE", max_uses=1)
    body = {"card_number": member.card_number, "total": "10.00", "promo_code": "ONE"}
    assert (
        till.post(PURCHASES, {**body, "receipt_id": "R-1"}, format="json").status_code
        == 201
    )
    response = till.post(PURCHASES, {**body, "receipt_id": "R-2"}, format="json")
    assert response.status_code == 409
    assert response.json()["reason"] == "limit_reached"
    assert "promo_code" in response.json()["errors"]
