"""A cashier sells a Club membership at the Counter; the customer sees it on the
dashboard; the settlement page and its month picker work under the CSP."""

import re

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from members.tests.factories import MemberFactory, StoreFactory, UserFactory
from rewards.tests.factories import MembershipPlanFactory, RewardFactory
from tests.browser._journey import admin_login, portal_login

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_cashier_sells_a_membership_and_the_customer_sees_it(page, live_server):
    store = StoreFactory(code="club1", name="Club Street")
    UserFactory(username="boss", is_staff=True, is_superuser=True, store=store)
    user = UserFactory(username="ira@example.com")
    member = MemberFactory(store=store, user=user, email="ira@example.com")
    MembershipPlanFactory(name="Club", monthly_reward=RewardFactory(name="Coffee"))
    violations: list[str] = []
    page.on(
        "console",
        lambda msg: (
            violations.append(msg.text)
            if "Content Security Policy" in msg.text
            else None
        ),
    )
    page.set_default_timeout(5_000)

    admin_login(page, live_server.url, "boss")
    page.goto(live_server.url + reverse("admin:counter_member", args=[member.pk]))
    panel = page.locator("#counter-membership")
    expect(panel).to_contain_text("No paid membership.")
    panel.locator("select[name=membership-plan]").select_option(label="Club")
    panel.get_by_role("button", name="Sell membership").click()
    expect(page.locator(".messagelist")).to_contain_text("Club sold: valid until")
    expect(page.get_by_test_id("counter-membership-status")).to_contain_text(
        "Club until"
    )

    page.goto(live_server.url + reverse("admin:members_partner_settlement"))
    page.locator("#id_month").fill("2026-10")
    page.get_by_role("button", name="Show").click()
    expect(page).to_have_url(re.compile(r"month=2026-10"))

    page.context.clear_cookies()
    portal_login(page, live_server.url, "ira@example.com")
    page.goto(live_server.url + reverse("portal:dashboard"))
    expect(page.get_by_test_id("membership")).to_contain_text("Club member")
    expect(page.get_by_test_id("membership")).to_contain_text("“Coffee” voucher")

    assert violations == []
