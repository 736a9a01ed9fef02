"""A customer sees their stamp cards drawn, the voucher of a full card, and a
return taking its stamps off the card."""

import re
from decimal import Decimal

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from members.tests.factories import MemberFactory, StoreFactory, UserFactory
from rewards.models import StampTrigger, Voucher
from rewards.services import (
    LineInput,
    ReturnLineInput,
    purchase_record,
    purchase_return_record,
)
from rewards.tests.factories import RewardFactory, StampProgramFactory
from tests.browser._journey import portal_login

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def _coffees(store, member, receipt: str, count: int):
    purchase, _replayed = purchase_record(
        store=store,
        member=member,
        receipt_id=receipt,
        lines=[
            LineInput(
                sku="COF-CAP",
                quantity=Decimal(count),
                unit_price=Decimal("65"),
                category="coffee",
            )
        ],
    )
    return purchase


def test_customer_sees_stamp_cards_drawn_and_a_return_removing_stamps(
    page, live_server
):
    store = StoreFactory(code="shop5", name="Shop 5")
    user = UserFactory(username="iryna@example.com")
    member = MemberFactory(store=store, user=user, email="iryna@example.com")
    coffee = StampProgramFactory(
        name="Coffee card",
        trigger=StampTrigger.UNIT,
        category="coffee",
        stamps_needed=5,
        reward=RewardFactory(name="Free cappuccino"),
    )
    visits = StampProgramFactory(
        name="Visit card", stamps_needed=4, reward=RewardFactory(name="Croissant")
    )
    _coffees(store, member, "R1", 6)  # card 1 full, card 2: 1
    last = _coffees(store, member, "R2", 2)  # card 2: 3
    voucher = Voucher.objects.get(member=member)
    csp: list[str] = []
    page.on(
        "console",
        lambda msg: (
            csp.append(msg.text) if "Content Security Policy" in msg.text else None
        ),
    )
    page.set_default_timeout(5_000)

    portal_login(page, live_server.url, "iryna@example.com", next_name="catalog:stamps")

    card = page.get_by_test_id(f"stamp-card-{coffee.pk}")
    expect(card.locator(".stamp")).to_have_count(5)
    expect(card.locator(".stamp.stamp-filled")).to_have_count(3)
    expect(card.get_by_test_id("stamp-missing")).to_have_text(
        "2 more stamps for Free cappuccino"
    )
    second = page.get_by_test_id(f"stamp-card-{visits.pk}")
    expect(second.locator(".stamp.stamp-filled")).to_have_count(2)
    # A filled stamp is drawn as a coloured circle, an empty one as an outline.
    filled = card.locator(".stamp-filled").first
    assert filled.evaluate("e => getComputedStyle(e).borderRadius") == "50%"
    assert filled.evaluate("e => getComputedStyle(e).backgroundColor") == (
        "rgb(111, 78, 55)"
    )

    page.get_by_test_id("completed-cards").get_by_text(voucher.code).click()
    expect(page).to_have_url(re.compile(rf"/vouchers/{voucher.code}/$"))
    expect(page.get_by_test_id("voucher-code")).to_have_text(voucher.code)

    purchase_return_record(
        purchase=last,
        store=store,
        receipt_id="B1",
        lines=[ReturnLineInput("COF-CAP", Decimal(2))],
    )
    page.goto(live_server.url + reverse("portal:dashboard"))
    card = page.get_by_test_id(f"stamp-card-{coffee.pk}")
    expect(card.locator(".stamp.stamp-filled")).to_have_count(1)
    expect(card.get_by_test_id("stamp-missing")).to_have_text(
        "4 more stamps for Free cappuccino"
    )
    assert csp == []
