"""A cashier uses a customer's voucher at the Counter, in a real browser."""

import re

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from members.tests.factories import MemberFactory
from rewards.models import Voucher, VoucherStatus
from rewards.services import points_adjust, reward_redeem
from rewards.tests.factories import RewardFactory
from tests.browser._journey import admin_login

# serialized_rollback: the flush after a live-server test would otherwise also
# wipe the rows data migrations made (staff groups, program settings).
pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_cashier_finds_a_voucher_by_code_at_the_counter_and_uses_it(
    page, live_server, cashier
):
    member = MemberFactory(store=cashier.store, first_name="Iryna")
    points_adjust(member=member, points=300, reason="Opening", created_by=None)
    reward = RewardFactory(name="Free coffee", points_cost=120)
    voucher, _replayed = reward_redeem(
        member=member, reward=reward, idempotency_key="browser-counter"
    )
    page.set_default_timeout(5_000)

    admin_login(page, live_server.url, "cashier")
    page.get_by_role("link", name="Open the Counter").click()
    expect(page).to_have_url(live_server.url + reverse("admin:counter"))

    panel = page.locator("#counter-voucher")
    # Customers read codes out or show them on a phone; lower case must do.
    panel.get_by_label("Voucher code").fill(voucher.code.lower())
    expect(panel.get_by_label("Receipt id")).not_to_have_value("")
    panel.get_by_role("button", name="Use voucher").click()

    expect(page).to_have_url(
        live_server.url + reverse("admin:counter_member", args=[member.pk])
    )
    expect(page.locator(".messagelist .success")).to_have_text(
        re.compile(
            rf"Voucher {voucher.code} used: give “Free coffee”\. Balance: 180 points\."
        )
    )
    voucher.refresh_from_db()
    assert voucher.status == VoucherStatus.USED
    assert voucher.used_store == cashier.store
    assert Voucher.objects.filter(status=VoucherStatus.USED).count() == 1

    # The same code again, on a new receipt: refused, saying it is used.
    page.get_by_role("link", name="Counter").first.click()
    panel = page.locator("#counter-voucher")
    panel.get_by_label("Voucher code").fill(voucher.code)
    panel.get_by_role("button", name="Use voucher").click()
    expect(panel.locator(".errorlist")).to_contain_text("was already used on")
