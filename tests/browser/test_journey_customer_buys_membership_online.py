"""A customer buys the Club membership online through the built-in test
provider's page (a failed try first, then a paid one), sees it on the
membership page with automatic renewal on, turns renewal off; staff see the
payment and its callbacks in admin and refund it, which ends the membership."""

import re

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from members.tests.factories import MemberFactory, StoreFactory, UserFactory
from rewards.models import Payment, PaymentStatus, Subscription
from rewards.tests.factories import MembershipPlanFactory
from tests.browser._journey import admin_login, portal_login

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_customer_buys_the_membership_online_and_staff_refund_it(
    page, live_server, settings
):
    settings.PAYMENT_PROVIDER = "test"
    store = StoreFactory(code="club1", name="Club Street")
    user = UserFactory(username="olena@example.com")
    member = MemberFactory(store=store, user=user, email="olena@example.com")
    plan = MembershipPlanFactory(name="Club")
    UserFactory(username="boss", is_staff=True, is_superuser=True, store=store)
    page.set_default_timeout(5_000)

    portal_login(
        page, live_server.url, "olena@example.com", next_name="catalog:membership"
    )
    card = page.get_by_test_id(f"plan-{plan.pk}")
    expect(card).to_contain_text("Club")

    # A first try fails on the provider's page: nothing starts.
    card.get_by_test_id(f"buy-{plan.pk}").click()
    expect(page.get_by_test_id("test-provider")).to_contain_text("for the Club")
    page.get_by_test_id("test-fail").click()
    expect(page.get_by_test_id("payment-status")).to_contain_text(
        "The payment did not go through."
    )
    assert not Subscription.objects.filter(member=member).exists()

    # The second is paid, with automatic renewal ticked.
    page.get_by_role("link", name="Back to my membership").click()
    card = page.get_by_test_id(f"plan-{plan.pk}")
    card.get_by_label("Renew automatically").check()
    card.get_by_test_id(f"buy-{plan.pk}").click()
    page.get_by_test_id("test-pay").click()
    expect(page).to_have_url(re.compile(r"/payments/m\d+-[0-9a-f]+/$"))
    expect(page.get_by_test_id("payment-status")).to_contain_text(
        "Paid. Your membership lasts until"
    )
    page.get_by_role("link", name="Back to my membership").click()
    current = page.get_by_test_id("membership-current")
    expect(current).to_contain_text("You are a Club member")
    expect(current).to_contain_text("renews automatically")
    current.get_by_test_id("auto-renew-off").click()
    expect(page.get_by_test_id("membership-current")).to_contain_text(
        "Renew it at any of our counters"
    )
    paid = Payment.objects.get(status=PaymentStatus.PAID)
    assert Subscription.objects.get(member=member).auto_renew is False

    # Staff see both payments and refund the paid one: the membership ends.
    page.context.clear_cookies()
    admin_login(page, live_server.url, "boss")
    page.goto(live_server.url + reverse("admin:rewards_payment_changelist"))
    rows = page.locator("#result_list tbody tr")
    expect(rows).to_have_count(2)
    expect(page.locator("#result_list")).to_contain_text("Failed")
    page.locator(
        f"#result_list tr:has-text('{paid.order_id}') input.action-select"
    ).check()
    page.locator("select[name=action]").select_option("refund_payments")
    page.locator("button[name=index]").click()
    expect(page.locator(".messagelist")).to_contain_text("Refund asked for 1 payment")
    expect(page.locator("#result_list")).to_contain_text("Refunded")
    page.goto(live_server.url + reverse("admin:rewards_paymentcallback_changelist"))
    expect(page.locator("#result_list tbody tr")).to_have_count(3)

    sub = Subscription.objects.get(member=member)
    assert sub.status == "cancelled"
