"""The stamps part of POST /api/v1/purchases."""

import pytest
from django.urls import reverse

from rewards.models import StampTrigger, Voucher, VoucherSource
from rewards.tests.factories import RewardFactory, StampProgramFactory

pytestmark = pytest.mark.django_db

PURCHASES = reverse("api-v1:purchase-create")


@pytest.fixture
def coffee_card():
    return StampProgramFactory(
        name="Coffee card",
        trigger=StampTrigger.UNIT,
        category="coffee",
        stamps_needed=3,
        reward=RewardFactory(name="Free coffee"),
    )


def _body(member, receipt, coffees):
    return {
        "card_number": member.card_number,
        "receipt_id": receipt,
        "total": f"{coffees * 50}.00",
        "lines": [
            {
                "sku": "COF-CAP",
                "category": "coffee",
                "quantity": str(coffees),
                "unit_price": "50.00",
            }
        ],
    }


def test_a_purchase_answers_with_the_stamps_it_gave(api_client, member, coffee_card):
    response = api_client.post(PURCHASES, _body(member, "R1", 2), format="json")

    assert response.status_code == 201, response.json()
    assert response.json()["stamps"] == [
        {
            "program": "Coffee card",
            "earned": 2,
            "stamps": 2,
            "needed": 3,
            "owed": 0,
            "vouchers": [],
        }
    ]


def test_a_purchase_that_fills_a_card_answers_with_the_voucher_code(
    api_client, member, coffee_card
):
    api_client.post(PURCHASES, _body(member, "R1", 2), format="json")

    response = api_client.post(PURCHASES, _body(member, "R2", 2), format="json")

    voucher = Voucher.objects.get(source=VoucherSource.STAMP_CARD)
    assert response.json()["stamps"] == [
        {
            "program": "Coffee card",
            "earned": 2,
            "stamps": 1,
            "needed": 3,
            "owed": 0,
            "vouchers": [voucher.code],
        }
    ]
    replay = api_client.post(PURCHASES, _body(member, "R2", 2), format="json")
    assert replay.status_code == 200
    assert replay.json()["stamps"] == response.json()["stamps"]
    assert Voucher.objects.count() == 1


def test_a_return_through_the_api_takes_the_stamps_back(
    api_client, member, coffee_card
):
    created = api_client.post(PURCHASES, _body(member, "R1", 2), format="json")
    purchase_id = created.json()["id"]

    response = api_client.post(
        reverse("api-v1:purchase-return-create", args=[purchase_id]),
        {"receipt_id": "B1", "lines": [{"sku": "COF-CAP", "quantity": "1"}]},
        format="json",
    )

    assert response.status_code == 201, response.json()
    card = member.stamp_cards.get()
    assert card.stamps == 1


def test_the_schema_describes_the_stamps(api_client):
    schema = api_client.get(reverse("api-v1:schema"), {"format": "json"}).json()

    stamps = schema["components"]["schemas"]["PurchaseStamps"]["properties"]
    assert set(stamps) == {"program", "earned", "stamps", "needed", "owed", "vouchers"}
