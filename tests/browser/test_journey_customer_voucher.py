"""A customer redeems a reward in the portal and sees the voucher with its QR code."""

import re

import pytest
from playwright.sync_api import expect

from members.tests.factories import MemberFactory, StoreFactory, UserFactory
from rewards.models import Voucher
from rewards.services import points_adjust
from rewards.tests.factories import RewardFactory
from tests.browser._journey import portal_login

# serialized_rollback: the flush after a live-server test would otherwise also
# wipe the rows data migrations made (staff groups, program settings).
pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_customer_redeems_a_reward_and_sees_the_voucher_qr(page, live_server):
    store = StoreFactory(code="shop3", name="Shop 3")
    user = UserFactory(username="taras@example.com")
    member = MemberFactory(store=store, user=user, email="taras@example.com")
    points_adjust(member=member, points=200, reason="Welcome", created_by=None)
    coffee = RewardFactory(name="Free coffee", points_cost=150, stock=3)
    RewardFactory(name="Barista workshop", points_cost=900)
    page.set_default_timeout(5_000)

    portal_login(
        page, live_server.url, "taras@example.com", next_name="catalog:catalog"
    )

    expect(page.get_by_test_id(f"reward-{coffee.pk}")).to_have_class(
        re.compile("reward-affordable")
    )
    expect(page.get_by_text("700 more points needed")).to_be_visible()
    page.get_by_test_id(f"reward-{coffee.pk}").get_by_role("button").click()
    confirm = page.get_by_test_id("redeem-confirm")
    expect(confirm).to_be_visible()
    expect(confirm).to_contain_text("Free coffee")
    expect(confirm).to_contain_text("150 points")
    expect(confirm).to_contain_text("50 points")  # the balance after
    confirm.get_by_test_id("redeem-confirm-button").click()

    expect(page).to_have_url(re.compile(r"/vouchers/[A-Z2-9]{5}-[A-Z2-9]{5}/$"))
    voucher = Voucher.objects.get(member=member)
    expect(page.get_by_test_id("voucher-code")).to_have_text(voucher.code)
    expect(page.get_by_test_id("voucher-qr").locator("svg")).to_be_visible()
    expect(page.get_by_test_id("voucher-status")).to_contain_text("Valid until")

    page.get_by_role("link", name="My vouchers").first.click()
    expect(page.locator(".vouchers")).to_contain_text(voucher.code)
