"""A cashier at the Counter: enrolls a customer by phone, records a purchase and a
partial return, takes a voucher the customer holds, and reads the balance."""

import re
from decimal import Decimal
from pathlib import Path

import pytest
from playwright.sync_api import expect

from members.models import Member
from rewards.models import Purchase, PurchaseReturn, Voucher, VoucherSource
from rewards.services import voucher_grant
from rewards.tests.factories import RewardFactory
from tests.browser._journey import admin_login

# serialized_rollback: the flush after a live-server test would otherwise also
# wipe the rows data migrations made (staff groups, program settings).
pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

PHONE = "+380671112233"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-results"


@pytest.fixture
def shot_on_failure(page, request):
    """Keep what the browser showed when the test failed, in test-results/.

    The call phase is reported before fixtures tear down, so a failure has
    already been counted here."""
    failed_before = request.session.testsfailed
    yield page
    if request.session.testsfailed > failed_before:
        SCREENSHOTS.mkdir(exist_ok=True)
        page.screenshot(path=SCREENSHOTS / f"{request.node.name}.png", full_page=True)


def test_cashier_enrolls_sells_takes_a_return_and_a_voucher(
    shot_on_failure, live_server, cashier
):
    page = shot_on_failure
    page.set_default_timeout(5_000)
    reward = RewardFactory(name="Free croissant", points_cost=80)

    admin_login(page, live_server.url, "cashier")
    page.get_by_role("link", name="Open the Counter").click()
    expect(page).to_have_url(re.compile(r"/counter/$"))

    # A phone nobody has: the Counter offers to enroll it.
    page.locator("#id_q").fill(PHONE)
    page.get_by_role("button", name="Find").click()
    enroll = page.locator("#counter-enroll")
    expect(enroll.locator("#id_phone")).to_have_value(PHONE)
    enroll.locator("#id_first_name").fill("Oksana")
    enroll.get_by_role("button", name="Enroll").click()
    expect(page.locator("#counter-member")).to_contain_text(PHONE)
    expect(page.locator("#counter-balance")).to_contain_text("0 points")
    member = Member.objects.get(phone=PHONE)

    page.locator("#id_purchase-total").fill("100.00")
    page.locator("#counter-purchase").get_by_role(
        "button", name="Record purchase"
    ).click()
    expect(page.locator("#counter-balance")).to_contain_text("100 points")
    purchase = Purchase.objects.get(member=member)
    assert purchase.created_by == cashier

    page.locator("#id_return-purchase").select_option(str(purchase.pk))
    page.locator("#id_return-amount").fill("40.00")
    page.locator("#counter-return").get_by_role("button", name="Record return").click()
    expect(page.locator("#counter-balance")).to_contain_text("60 points")
    assert PurchaseReturn.objects.get(purchase=purchase).amount == Decimal("40.00")

    # The customer holds a voucher given by the program (no points move).
    voucher, _replayed = voucher_grant(
        member=member,
        reward=reward,
        source=VoucherSource.GOODWILL,
        idempotency_key="journey-gift",
    )
    page.get_by_role("link", name="Counter").first.click()
    voucher_box = page.locator("#counter-voucher")
    voucher_box.locator("#id_voucher-code").fill(voucher.code)
    voucher_box.get_by_role("button", name="Use voucher").click()
    expect(page.locator(".messagelist")).to_contain_text(voucher.code)
    voucher.refresh_from_db()
    assert voucher.status == "used"
    assert voucher.used_by == cashier

    page.locator("#id_q").fill(PHONE)
    page.get_by_role("button", name="Find").click()
    expect(page.locator("#counter-balance")).to_have_text(
        re.compile(r"Balance:\s*60 points")
    )
    assert Voucher.objects.filter(member=member, status="used").count() == 1
