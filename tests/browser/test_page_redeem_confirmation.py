"""Redeeming a reward asks first in a dialog of the page (reward, cost, balance
after), not the browser's bare confirm box; cancelling spends nothing. Without
JavaScript the redeem form still posts."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from members.tests.factories import MemberFactory, StoreFactory, UserFactory
from rewards.models import Voucher
from rewards.selectors.ledger import member_balance_get
from rewards.services import points_adjust
from rewards.tests.factories import RewardFactory
from tests.browser._journey import portal_login

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.fixture
def shopper():
    store = StoreFactory(code="rc", name="Redeem Street")
    user = UserFactory(username="olena@example.com")
    member = MemberFactory(store=store, user=user, email="olena@example.com")
    points_adjust(member=member, points=1200, reason="Welcome", created_by=None)
    return member


def test_redeem_asks_in_a_dialog_and_cancel_spends_nothing(page, live_server, shopper):
    tea = RewardFactory(name="Green tea", points_cost=1000)
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.set_default_timeout(5_000)
    portal_login(
        page, live_server.url, "olena@example.com", next_name="catalog:catalog"
    )
    confirm = page.get_by_test_id("redeem-confirm")
    expect(confirm).to_be_hidden()

    page.get_by_test_id(f"reward-{tea.pk}").get_by_role("button").click()

    expect(confirm).to_be_visible()
    expect(confirm.get_by_role("heading")).to_have_text("Redeem this reward?")
    expect(confirm.locator("[data-field=reward]")).to_have_text("Green tea")
    expect(confirm.locator("[data-field=cost]")).to_have_text("1,000 points")
    expect(confirm.locator("[data-field=after]")).to_have_text("200 points")
    confirm.get_by_role("button", name="Cancel").click()
    expect(confirm).to_be_hidden()
    assert not Voucher.objects.filter(member=shopper).exists()
    assert member_balance_get(member_id=shopper.pk) == 1200

    page.get_by_test_id(f"reward-{tea.pk}").get_by_role("button").click()
    confirm.get_by_test_id("redeem-confirm-button").click()

    expect(page).to_have_url(re.compile(r"/vouchers/[A-Z2-9]{5}-[A-Z2-9]{5}/$"))
    assert Voucher.objects.filter(member=shopper, reward=tea).count() == 1
    assert member_balance_get(member_id=shopper.pk) == 200
    assert dialogs == []  # never the browser's own confirm box


def test_redeem_form_posts_without_javascript(browser, live_server, shopper):
    tea = RewardFactory(name="Green tea", points_cost=1000)
    context = browser.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        page.set_default_timeout(5_000)
        portal_login(
            page, live_server.url, "olena@example.com", next_name="catalog:catalog"
        )

        page.get_by_test_id(f"reward-{tea.pk}").get_by_role("button").click()

        expect(page).to_have_url(re.compile(r"/vouchers/[A-Z2-9]{5}-[A-Z2-9]{5}/$"))
        assert Voucher.objects.filter(member=shopper, reward=tea).count() == 1
    finally:
        context.close()
