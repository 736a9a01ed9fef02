"""Partners, seen from both sides: a customer finds the partner bakery on the
Partners page from the account menu, and the bakery's staff log in to the back
office and see their own settlement only."""

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from playwright.sync_api import expect

from loyalty_site.roles import roles_sync
from members.tests.factories import (
    MemberFactory,
    PartnerFactory,
    StoreFactory,
    UserFactory,
)
from rewards.tests.factories import RewardFactory
from tests.browser._journey import admin_login, browser_watch, portal_login

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_customer_finds_the_partner_and_its_staff_see_only_their_settlement(
    page, live_server
):
    roles_sync()
    store = StoreFactory(code="home", name="Home shop")
    bakery = PartnerFactory(name="Bakery Coop", description_en="Bread at dawn.")
    StoreFactory(code="bak", name="Bakery Podil", address="Podil 5", partner=bakery)
    florist = PartnerFactory(name="Florist Guild")
    StoreFactory(code="flo", name="Florist Corner", partner=florist)
    RewardFactory(name="Croissant gift", funded_by=bakery)
    user = UserFactory(username="olena@example.com")
    MemberFactory(store=store, user=user, email="olena@example.com")
    staff = UserFactory(username="bakery-staff", is_staff=True, partner=bakery)
    staff.groups.add(Group.objects.get(name="Partner"))
    watch = browser_watch(page)
    page.set_default_timeout(5_000)

    portal_login(page, live_server.url, "olena@example.com")
    toggler = page.locator(".navbar-toggler")
    if toggler.is_visible():
        toggler.click()
    page.locator("#account-menu").click()
    page.locator(".account-menu a", has_text="Partners").click()
    page.wait_for_url(live_server.url + reverse("catalog:partners"))
    cards = page.get_by_test_id("partner")
    expect(cards).to_have_count(2)
    bakery_card = cards.filter(has_text="Bakery Coop")
    expect(bakery_card).to_contain_text("Bakery Podil")
    expect(bakery_card).to_contain_text("Podil 5")
    expect(bakery_card).to_contain_text("Bread at dawn.")
    expect(bakery_card).to_contain_text("Croissant gift")

    page.context.clear_cookies()
    admin_login(page, live_server.url, "bakery-staff")
    page.goto(live_server.url + reverse("admin:members_partner_settlement"))
    table = page.get_by_test_id("settlement")
    expect(table).to_contain_text("Bakery Coop")
    expect(table).not_to_contain_text("Florist")
    # The sidebar offers its four pages, nothing of campaigns or analytics.
    sidebar = page.locator("#nav-sidebar")
    expect(sidebar.locator("a", has_text="Vouchers")).to_have_count(1)
    expect(sidebar).not_to_contain_text("Campaigns")
    watch.assert_clean()
