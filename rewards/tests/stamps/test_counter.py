"""The Counter shows stamp progress after a purchase and on the member's panel."""

import pytest
from django.urls import reverse

from members.tests.factories import MemberFactory
from rewards.models import StampCard, Voucher
from rewards.tests.factories import RewardFactory, StampProgramFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def cashier_client(client, cashier):
    client.force_login(cashier)
    return client


@pytest.fixture
def visit_card():
    return StampProgramFactory(
        name="Visit card", stamps_needed=2, reward=RewardFactory(name="Croissant")
    )


def _purchase(client, member, receipt_id):
    data = {"purchase-total": "80.00", "purchase-receipt_id": receipt_id}
    return client.post(reverse("admin:counter_purchase", args=[member.pk]), data)


def _messages(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def test_a_purchase_at_the_counter_says_the_stamps_and_the_voucher_of_a_full_card(
    cashier_client, store, visit_card
):
    member = MemberFactory(store=store)

    first = cashier_client.get(_purchase(cashier_client, member, "C-1")["Location"])
    assert any("Visit card: +1 stamp, 1 of 2." in m for m in _messages(first))
    assert "Visit card: 1 of 2 stamps" in first.content.decode()

    second = cashier_client.get(_purchase(cashier_client, member, "C-2")["Location"])
    voucher = Voucher.objects.get(member=member)
    assert any(
        "Visit card: +1 stamp, 0 of 2." in m
        and f"Card full: voucher {voucher.code} for “Croissant” is the customer's now."
        in m
        for m in _messages(second)
    )
    assert StampCard.objects.get(number=1).voucher == voucher


def test_a_replayed_counter_purchase_says_nothing_of_stamps(
    cashier_client, store, visit_card
):
    member = MemberFactory(store=store)
    cashier_client.get(_purchase(cashier_client, member, "C-1")["Location"])

    again = cashier_client.get(_purchase(cashier_client, member, "C-1")["Location"])

    assert not any("stamp" in m for m in _messages(again))
    assert StampCard.objects.get().stamps == 1
