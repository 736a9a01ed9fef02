"""The customer's whole journey in one real Chromium, under the strict CSP.

Sign up on the portal → a till purchase (POS API) shows on the dashboard →
redeem a reward in the catalog → the voucher page shows its QR → allow email
offers → a campaign email reaches them → they unsubscribe with its link →
preferences show email offers off → they write a complaint → staff answer
(service) → they read the answer on their feedback page."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.urls import reverse
from playwright.sync_api import expect

from campaigns.feedback.services import complaint_staff_reply
from campaigns.models import Complaint, Message
from campaigns.sending.services import campaign_send_now
from campaigns.tests.factories import campaign_make, segment_of
from members.audit import StaffActor
from members.models import ConsentSource, Member
from members.services import api_token_create
from members.tests.factories import StoreFactory
from rewards.models import Voucher
from rewards.selectors.ledger import member_balance_get
from rewards.tests.factories import RewardFactory
from tests.browser._journey import browser_watch

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

EMAIL = "mariia.journey@example.com"
PASSWORD = "Journey-pass-2026"  # noqa: S105 (a test sign-up)


def _balance(page) -> int:
    return int(page.get_by_test_id("balance").inner_text().replace(" ", ""))


def test_customer_signs_up_buys_redeems_unsubscribes_and_complains(
    page, live_server, settings, manager
):
    settings.SITE_URL = live_server.url
    page.set_default_timeout(10_000)
    watch = browser_watch(page)
    store = StoreFactory(code="jrn", name="Journey Street")
    _token, raw_token = api_token_create(store=store, name="till J")
    coffee = RewardFactory(name="Free coffee", points_cost=150, stock=3)

    # 1. Sign up on the real sign-up page (from the home page's link).
    page.goto(live_server.url + reverse("portal:home"))
    page.locator(f"a[href='{reverse('portal:signup')}']").first.click()
    expect(page.get_by_role("heading", name="Join Loyalty club")).to_be_visible()
    page.locator("#id_email").fill(EMAIL)
    page.locator("#id_phone").fill("+380671234599")
    page.locator("#id_first_name").fill("Mariia")
    page.locator("#id_last_name").fill("Journey")
    page.locator("#id_language").select_option("en")
    page.locator("#id_password1").fill(PASSWORD)
    page.locator("#id_password2").fill(PASSWORD)
    page.locator("#content form [type=submit]").click()
    expect(page).to_have_url(live_server.url + reverse("portal:dashboard"))
    member = Member.objects.get(user__username=EMAIL)
    expect(page.get_by_text("Welcome! Your card number is")).to_be_visible()
    start = _balance(page)
    assert start == member_balance_get(member_id=member.pk)

    # 2. A purchase at a till (POS API) shows on the dashboard.
    response = page.request.post(
        live_server.url + reverse("api-v1:purchase-create"),
        headers={"Authorization": f"Token {raw_token}"},
        data={
            "card_number": member.card_number,
            "receipt_id": "JRN-0001",
            "total": "412.50",
        },
    )
    assert response.status == 201, response.text()
    earned = response.json()["points_earned"]
    assert earned == 412
    page.reload()
    expect(page.get_by_test_id("balance")).to_have_text(str(start + earned))
    expect(page.locator(".ledger")).to_contain_text("412.50 UAH")
    expect(page.locator(".ledger")).to_contain_text("+412")

    # 3. Redeem a reward in the catalog; the voucher page shows its QR.
    page.goto(live_server.url + reverse("catalog:catalog"))
    page.wait_for_load_state()  # the confirmation script is deferred
    card = page.get_by_test_id(f"reward-{coffee.pk}")
    expect(card).to_have_class(re.compile("reward-affordable"))
    card.get_by_role("button").click()
    confirm = page.get_by_test_id("redeem-confirm")
    expect(confirm).to_contain_text("Free coffee")
    expect(confirm).to_contain_text("150 points")
    confirm.get_by_test_id("redeem-confirm-button").click()
    expect(page).to_have_url(re.compile(r"/vouchers/[A-Z2-9]{5}-[A-Z2-9]{5}/$"))
    voucher = Voucher.objects.get(member=member)
    expect(page.get_by_test_id("voucher-code")).to_have_text(voucher.code)
    expect(page.get_by_test_id("voucher-qr").locator("svg")).to_be_visible()
    expect(page.get_by_test_id("voucher-status")).to_contain_text("Valid until")
    assert member_balance_get(member_id=member.pk) == start + earned - 150

    # 4. They allow offers by email on the preferences page.
    page.goto(live_server.url + reverse("portal:preferences"))
    page.get_by_label("Send me offers by email").check()
    page.get_by_role("button", name="Save preferences").click()
    page.goto(live_server.url + reverse("portal:preferences"))
    expect(page.get_by_label("Send me offers by email")).to_be_checked()
    member.refresh_from_db()
    assert member.email_consent is True

    # 5. A real campaign to them goes out (tasks run eagerly, after commit).
    campaign = campaign_make(
        segment=segment_of([member], name="Just Mariia"),
        name="Spring offer",
        channel="email",
        body_a="Hi {{ first_name }}, 20% off this week.",
    )
    campaign_send_now(campaign=campaign)
    offers = [
        m
        for m in mail.outbox
        if m.to == [EMAIL] and "List-Unsubscribe" in m.extra_headers
    ]
    assert len(offers) == 1, [(m.to, m.subject) for m in mail.outbox]
    offer = offers[0]
    assert "Hi Mariia, 20% off this week." in offer.body
    assert Message.objects.get(member=member, campaign=campaign).status == "sent"

    # 6. They click the unsubscribe link in the email and confirm.
    link = offer.extra_headers["List-Unsubscribe"].strip("<>")
    assert link in offer.body
    page.goto(link)
    expect(page.get_by_role("heading", name="Unsubscribe from offers?")).to_be_visible()
    page.get_by_role("button", name="Unsubscribe").click()
    expect(page.get_by_role("heading", name="You are unsubscribed")).to_be_visible()
    page.get_by_role("link", name="My preferences").click()
    expect(page).to_have_url(live_server.url + reverse("portal:preferences"))
    expect(page.get_by_label("Send me offers by email")).not_to_be_checked()
    expect(page.locator(".consent-history")).to_contain_text("Unsubscribe link")
    member.refresh_from_db()
    assert member.email_consent is False
    assert member.email_consent_source == ConsentSource.UNSUBSCRIBE

    # 7. They write a complaint about the purchase.
    page.goto(live_server.url + reverse("campaigns:complaint_new"))
    page.locator("#id_topic").select_option("product")
    page.locator("#id_purchase").select_option(index=1)
    page.locator("#id_message").fill("The croissant was stale.")
    page.get_by_role("button", name="Send").click()
    expect(page.get_by_test_id("thread")).to_contain_text("The croissant was stale.")
    complaint = Complaint.objects.get(member=member)
    assert complaint.purchase.receipt_id == "JRN-0001"

    # 8. Staff answer through the service; the answer is a service message, so it
    # still reaches them by email although they refused offers.
    complaint_staff_reply(
        complaint_id=complaint.pk,
        actor=StaffActor(user=manager),
        body="Sorry about that! Your next croissant is on us.",
    )
    assert Message.objects.get(member=member, kind="complaint_reply").status == "sent"
    assert "Sorry about that!" in mail.outbox[-1].body

    # 9. They read the answer on their feedback page.
    page.goto(live_server.url + reverse("campaigns:feedback"))
    expect(page.locator(".complaints")).to_contain_text("1 reply from us")
    page.locator(".complaints a").first.click()
    expect(page.get_by_test_id("thread")).to_contain_text(
        "Sorry about that! Your next croissant is on us."
    )

    watch.assert_clean()
