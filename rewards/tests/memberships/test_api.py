"""The till API for paid membership: the plans on sale, selling, replays,
conflicts and bad input."""

from decimal import Decimal

import pytest

from members.tests.factories import MemberFactory, PartnerFactory, StoreFactory
from rewards.models import Subscription, SubscriptionStatus
from rewards.tests.factories import MembershipPlanFactory, RewardFactory, TierFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def till(api_client):
    api_client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return api_client


@pytest.fixture
def plan():
    return MembershipPlanFactory(
        name="Club",
        monthly_reward=RewardFactory(name="Coffee"),
        guaranteed_tier=TierFactory(name="Silver", rank=2),
    )


def _sell(client, **body):
    return client.post("/api/v1/memberships", body, format="json")


def test_plan_list_shows_plans_on_sale(till, plan):
    MembershipPlanFactory(name="Old", is_active=False)

    response = till.get("/api/v1/membership-plans")

    assert response.status_code == 200
    assert response.json() == [
        {
            "id": plan.pk,
            "name": "Club",
            "description": "",
            "price": "99.00",
            "period_months": 1,
            "earn_multiplier": "1.50",
            "monthly_reward": "Coffee",
            "guaranteed_tier": "Silver",
        }
    ]


def test_sell_by_card_starts_a_membership(till, plan, member):
    response = _sell(
        till, card_number=member.card_number, plan_id=plan.pk, receipt_id="M-1"
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    sub = Subscription.objects.get(member=member)
    assert body["id"] == sub.pk
    assert body["plan"] == "Club"
    assert body["status"] == "active"
    assert body["current_period_end"]


def test_sell_by_phone_works_too(till, plan, member):
    response = _sell(till, phone=member.phone, plan_id=plan.pk, receipt_id="M-1")

    assert response.status_code == 201, response.json()


def test_replayed_sale_is_200_with_the_same_body(till, plan, member):
    body = {"card_number": member.card_number, "plan_id": plan.pk, "receipt_id": "M-1"}
    first = _sell(till, **body)
    again = _sell(till, **body)

    assert again.status_code == 200
    assert again.json() == first.json()
    assert Subscription.objects.count() == 1


def test_same_receipt_for_another_member_is_409(till, plan, member, store):
    _sell(till, card_number=member.card_number, plan_id=plan.pk, receipt_id="M-1")
    other = MemberFactory(store=store)

    response = _sell(
        till, card_number=other.card_number, plan_id=plan.pk, receipt_id="M-1"
    )

    assert response.status_code == 409
    assert response.json()["errors"] == {
        "receipt_id": [
            "Receipt M-1 was already recorded at this store with other details."
        ]
    }


def test_renewal_with_a_new_receipt_extends(till, plan, member):
    first = _sell(
        till, card_number=member.card_number, plan_id=plan.pk, receipt_id="M-1"
    ).json()
    second = _sell(
        till, card_number=member.card_number, plan_id=plan.pk, receipt_id="M-2"
    ).json()

    assert second["id"] == first["id"]
    assert second["current_period_end"] > first["current_period_end"]


def test_unknown_plan_is_404_on_plan_id(till, member):
    response = _sell(till, card_number=member.card_number, plan_id=999, receipt_id="M")

    assert response.status_code == 404
    assert list(response.json()["errors"]) == ["plan_id"]


def test_unknown_member_is_404(till, plan):
    response = _sell(till, card_number="2700000000", plan_id=plan.pk, receipt_id="M")

    assert response.status_code == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"plan_id": 1, "receipt_id": "M"}, "card_number"),
        ({"card_number": "27", "plan_id": "x", "receipt_id": "M"}, "plan_id"),
        ({"card_number": "27", "plan_id": 10**12, "receipt_id": "M"}, "plan_id"),
        ({"card_number": "27", "plan_id": 1}, "receipt_id"),
        ({"card_number": "27", "plan_id": 1, "receipt_id": "x" * 65}, "receipt_id"),
    ],
)
def test_bad_input_is_400_naming_the_field(till, plan, body, field):
    response = _sell(till, **body)

    assert response.status_code == 400
    assert field in response.json()["errors"]


def test_plan_not_on_sale_is_409(till, member):
    plan = MembershipPlanFactory(is_active=False)

    response = _sell(
        till, card_number=member.card_number, plan_id=plan.pk, receipt_id="M"
    )

    assert response.status_code == 409
    assert list(response.json()["errors"]) == ["plan"]


def test_partner_till_cannot_sell(plan, member):
    from conftest import api_client_for

    bakery = StoreFactory(code="bakery", partner=PartnerFactory())
    client = api_client_for(bakery)

    response = _sell(
        client, card_number=member.card_number, plan_id=plan.pk, receipt_id="M"
    )

    assert response.status_code == 409
    assert Subscription.objects.count() == 0


def test_without_a_token_is_401(client, plan):
    response = client.post("/api/v1/memberships", {}, content_type="application/json")

    assert response.status_code == 401


def test_schema_documents_the_membership_endpoints(till):
    response = till.get("/api/v1/schema/", HTTP_ACCEPT="application/json")
    text = response.content.decode()

    assert "/api/v1/memberships" in text
    assert "/api/v1/membership-plans" in text
    assert "membership_sell" in text


def test_earn_after_a_sale_uses_the_multiplier(till, plan, member):
    _sell(till, card_number=member.card_number, plan_id=plan.pk, receipt_id="M-1")

    response = till.post(
        "/api/v1/purchases",
        {"card_number": member.card_number, "receipt_id": "P-1", "total": "100.00"},
        format="json",
    )

    assert response.json()["points_earned"] == 150
    assert Subscription.objects.get().status == SubscriptionStatus.ACTIVE
    assert plan.earn_multiplier == Decimal("1.50")
