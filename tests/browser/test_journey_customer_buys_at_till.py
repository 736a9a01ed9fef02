"""A customer's journey in a real browser: log in, buy at a till, see the points."""

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from members.services import api_token_create
from members.tests.factories import MemberFactory, StoreFactory, UserFactory
from tests.browser._journey import portal_login

# serialized_rollback: the flush after a live-server test would otherwise also
# wipe the rows data migrations made (staff groups, program settings).
pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_customer_sees_the_points_of_a_till_purchase_on_the_dashboard(
    page, live_server
):
    store = StoreFactory(code="shop2", name="Shop 2")
    user = UserFactory(username="olena@example.com")
    member = MemberFactory(
        store=store, user=user, email="olena@example.com", first_name="Olena"
    )
    _token, raw_token = api_token_create(store=store, name="till 2")
    page.set_default_timeout(5_000)

    portal_login(
        page, live_server.url, "olena@example.com", next_name="portal:dashboard"
    )
    expect(page.get_by_test_id("balance")).to_have_text("0")

    response = page.request.post(
        live_server.url + reverse("api-v1:purchase-create"),
        headers={"Authorization": f"Token {raw_token}"},
        data={
            "card_number": member.card_number,
            "receipt_id": "T2-0001",
            "total": "412.50",
        },
    )
    assert response.status == 201, response.text()
    assert response.json()["points_earned"] == 412

    page.reload()
    expect(page.get_by_test_id("balance")).to_have_text("412")
    expect(page.locator(".ledger")).to_contain_text("412.50 UAH")
    expect(page.locator(".ledger")).to_contain_text("+412")
