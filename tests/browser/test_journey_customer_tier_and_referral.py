"""A customer sees the tier card on the dashboard and invites a friend, in a real browser."""

import re
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from members.formatting import date_format
from members.tests.factories import MemberFactory, StoreFactory, UserFactory
from rewards.services import purchase_record
from rewards.tests.factories import TierFactory
from tests.browser._journey import portal_login

# serialized_rollback: the flush after a live-server test would otherwise also
# wipe the rows data migrations made (staff groups, program settings).
pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_dashboard_tier_card_shows_the_progress_to_the_next_tier(page, live_server):
    store = StoreFactory(code="tiers", name="Tier Street")
    user = UserFactory(username="maria@example.com")
    member = MemberFactory(store=store, user=user, email="maria@example.com")
    TierFactory(name="Bronze", rank=1, benefits="Birthday coffee")
    TierFactory(name="Silver", rank=2, threshold=Decimal("1000"))
    purchase, _replayed = purchase_record(
        store=store, member=member, receipt_id="T-1", total="760.00"
    )
    deadline = timezone.localtime(purchase.occurred_at).date()
    deadline = deadline.replace(year=deadline.year + 1)

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
    portal_login(
        page, live_server.url, "maria@example.com", next_name="portal:dashboard"
    )

    card = page.get_by_test_id("tier-card")
    expect(card.get_by_test_id("tier-name")).to_have_text("Bronze")
    bar = card.get_by_role("progressbar", name="Progress to Silver")
    expect(bar).to_have_attribute("aria-valuenow", "76")
    expect(bar).to_have_text("76%")
    expect(card.get_by_test_id("tier-sentence")).to_have_text(
        f"Spend 240.00 UAH more by {date_format(deadline)} to reach Silver."
    )
    expect(card).to_contain_text("Birthday coffee")
    # The bar is drawn: its filled part is about 76% of the track.
    track = bar.bounding_box()
    filled = bar.locator(".progress-bar").bounding_box()
    assert track and filled
    assert filled["width"] / track["width"] == pytest.approx(0.76, abs=0.02)
    assert violations == []


def test_referrals_page_shows_the_code_and_a_link_that_fills_the_sign_up(
    page, live_server, browser, settings
):
    settings.SITE_URL = live_server.url  # links are built on the configured address
    store = StoreFactory(code="refs", name="Referral Street")
    user = UserFactory(username="petro@example.com")
    member = MemberFactory(store=store, user=user, email="petro@example.com")
    assert member.referral_code

    page.set_default_timeout(5_000)
    portal_login(
        page, live_server.url, "petro@example.com", next_name="portal:referrals"
    )

    expect(page.locator("#referral-code")).to_have_text(member.referral_code)
    link = page.locator("#referral-link")
    expected = live_server.url + reverse("portal:join", args=[member.referral_code])
    expect(link).to_have_value(expected)
    expect(page.get_by_text("No one has joined with your code yet.")).to_be_visible()
    page.get_by_role("button", name="Copy").click()
    expect(page.get_by_role("button", name="Copied")).to_be_visible()

    # A friend, not logged in, follows the link: the sign-up form has the code.
    friend = browser.new_context()
    try:
        friend_page = friend.new_page()
        friend_page.set_default_timeout(5_000)
        friend_page.goto(expected)
        expect(friend_page).to_have_url(re.compile(r"/signup/\?ref="))
        expect(friend_page.get_by_label("Friend's referral code")).to_have_value(
            member.referral_code
        )
    finally:
        friend.close()


def test_the_link_is_still_copied_when_the_clipboard_api_refuses(page, live_server):
    """Chromium refuses navigator.clipboard.writeText to a page without focus
    (seen under load in CI): the button copies the selected link the old way."""
    store = StoreFactory(code="refs2", name="Referral Lane")
    user = UserFactory(username="oksana@example.com")
    member = MemberFactory(store=store, user=user, email="oksana@example.com")
    page.add_init_script(
        "navigator.clipboard.writeText = () =>"
        " Promise.reject(new DOMException('Document is not focused.'));"
    )

    page.set_default_timeout(5_000)
    portal_login(
        page, live_server.url, "oksana@example.com", next_name="portal:referrals"
    )
    page.get_by_role("button", name="Copy").click()

    expect(page.get_by_role("button", name="Copied")).to_be_visible()
    selected = page.evaluate(
        "() => { const f = document.getElementById('referral-link');"
        " return f.value.substring(f.selectionStart, f.selectionEnd); }"
    )
    assert selected.endswith(f"/join/{member.referral_code}/")
