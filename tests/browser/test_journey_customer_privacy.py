"""A customer downloads their data and deletes their account, in a real
Chromium under the Content Security Policy."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from members.models import LeaveAnswer, Member, MemberErasure
from members.services import leave_reasons_ensure
from members.tests.factories import MemberFactory, StoreFactory, UserFactory
from rewards.services import purchase_record
from tests.browser._journey import portal_login

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_customer_downloads_data_then_deletes_the_account(page, live_server):
    csp_errors: list[str] = []
    page.on(
        "console",
        lambda msg: (
            csp_errors.append(msg.text)
            if "Content Security Policy" in msg.text
            else None
        ),
    )
    page.set_default_timeout(5_000)
    leave_reasons_ensure()  # a transactional test before may have emptied the list
    store = StoreFactory(code="priv", name="Privacy Street")
    user = UserFactory(username="priv@example.com")
    member = MemberFactory(
        store=store, user=user, email="priv@example.com", first_name="Iryna"
    )
    purchase_record(store=store, member=member, receipt_id="P1", total="120.00")

    portal_login(page, live_server.url, "priv@example.com")

    page.goto(live_server.url + reverse("portal:preferences"))
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download my data").click()
    data = json.loads(download_info.value.path().read_text(encoding="utf-8"))
    assert data["member"]["first_name"] == "Iryna"
    assert [p["receipt_id"] for p in data["purchases"]] == ["P1"]

    page.get_by_role("link", name="Delete my account").click()
    expect(page).to_have_url(live_server.url + reverse("portal:privacy_delete"))
    page.get_by_label("Your password").fill("pass-word-123")
    page.get_by_role("button", name="Delete my account").click()
    # Deleted at once; then the optional leaving question, one tap.
    expect(page.get_by_text("Your account is deleted")).to_be_visible()
    expect(page.get_by_role("heading", name="Why are you leaving?")).to_be_visible()
    assert MemberErasure.objects.filter(member=member).exists()
    page.get_by_role("button", name="Price").click()
    expect(page.get_by_role("heading", name="Thank you")).to_be_visible()

    assert Member.objects.get(pk=member.pk).first_name == ""
    answer = LeaveAnswer.objects.get(member=member)
    assert (answer.trigger, answer.reason.code) == ("deleted", "price")
    assert csp_errors == []
