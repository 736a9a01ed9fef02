"""A customer writes to us from the portal; a Manager answers in the back office;
the customer reads the answer on their pages, and it also left by email."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.urls import reverse
from playwright.sync_api import expect

from campaigns.models import Complaint, ComplaintStatus, Message
from members.tests.factories import MemberFactory, StoreFactory, UserFactory
from rewards.services import purchase_record
from tests.browser._journey import admin_login, portal_login

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def _csp_watch(page) -> list[str]:
    errors: list[str] = []
    page.on(
        "console",
        lambda msg: (
            errors.append(msg.text) if "Content Security Policy" in msg.text else None
        ),
    )
    return errors


def test_customer_complains_staff_replies_customer_reads_it(page, live_server, manager):
    csp_errors = _csp_watch(page)
    page.set_default_timeout(5_000)
    store = StoreFactory(code="fb", name="Feedback Street")
    user = UserFactory(username="fb@example.com")
    member = MemberFactory(store=store, user=user, email="fb@example.com")
    purchase_record(store=store, member=member, receipt_id="FB-1", total="80.00")

    # The customer writes from the portal about their purchase.
    portal_login(page, live_server.url, "fb@example.com")
    page.goto(live_server.url + reverse("campaigns:feedback"))
    page.get_by_test_id("complaint-new").click()
    page.locator("#id_topic").select_option("product")
    page.locator("#id_purchase").select_option(index=1)
    page.locator("#id_message").fill("The croissant was stale.")
    page.get_by_role("button", name="Send").click()
    expect(page.get_by_test_id("thread")).to_contain_text("The croissant was stale.")
    complaint = Complaint.objects.get(member=member)
    assert complaint.purchase.receipt_id == "FB-1"

    # A Manager answers in the back office, in a second browser context.
    staff = page.context.browser.new_context()
    admin = staff.new_page()
    admin.set_default_timeout(5_000)
    staff_csp_errors = _csp_watch(admin)
    admin_login(admin, live_server.url, "manager")
    admin.goto(live_server.url + reverse("admin:campaigns_complaint_changelist"))
    admin.get_by_role("link", name=f"#{complaint.pk}").click()
    expect(admin).to_have_url(re.compile(rf"/complaint/{complaint.pk}/change/$"))
    admin.locator("#id_reply").fill("Sorry! We added points to make up for it.")
    admin.locator("#id_status").select_option("resolved")
    admin.locator("#id_goodwill_points").fill("25")
    admin.get_by_role("button", name="Save").click()
    expect(admin.locator("ul.messagelist")).to_contain_text("reply sent")
    expect(admin.get_by_test_id("status")).to_have_text("Resolved")
    staff.close()

    # The customer reads the answer on their pages.
    page.goto(live_server.url + reverse("campaigns:feedback"))
    expect(page.locator(".complaints")).to_contain_text("1 reply from us")
    page.locator(".complaints a").first.click()
    expect(page.get_by_test_id("thread")).to_contain_text(
        "Sorry! We added points to make up for it."
    )
    expect(page.get_by_text("We added 25 points to your balance")).to_be_visible()

    complaint.refresh_from_db()
    assert complaint.status == ComplaintStatus.RESOLVED
    reply_message = Message.objects.get(member=member, kind="complaint_reply")
    assert reply_message.status == "sent"
    assert [m.to for m in mail.outbox] == [["fb@example.com"]]
    assert "Sorry! We added points" in mail.outbox[0].body
    assert csp_errors == [] and staff_csp_errors == []


def test_customer_answers_a_survey_from_the_link_on_a_phone(page, live_server):
    from campaigns.feedback.selectors import survey_link_token
    from campaigns.models import SurveyResponse
    from campaigns.tests.factories import survey_make

    csp_errors = _csp_watch(page)
    page.set_default_timeout(5_000)
    page.set_viewport_size({"width": 375, "height": 740})
    store = StoreFactory(code="sv", name="Survey Street")
    member = MemberFactory(store=store, email="sv@example.com")
    purchase, _replayed = purchase_record(
        store=store, member=member, receipt_id="SV-1", total="55.00"
    )
    survey = survey_make()
    token = survey_link_token(survey=survey, member=member, purchase=purchase)
    url = live_server.url + reverse("campaigns:survey_answer", args=[token])

    page.goto(url)  # no login: the signed link is enough
    expect(page.get_by_text("How likely are you to recommend us?")).to_be_visible()
    page.get_by_role("button", name="Send").click()
    expect(page.get_by_test_id("score-error")).to_have_text("Choose a score.")
    page.locator("label.survey-score", has_text="9").click()
    page.locator("textarea").fill("Quick and friendly")
    page.get_by_role("button", name="Send").click()
    expect(page.get_by_test_id("survey-thanks")).to_contain_text("Thank you!")

    page.goto(url)
    expect(page.get_by_test_id("survey-thanks")).to_contain_text("already answered")
    page.goto(url[:-3] + "xx/")
    expect(page.get_by_test_id("survey-link-error")).to_contain_text(
        "This link does not work"
    )
    answer = SurveyResponse.objects.get()
    assert (answer.score, answer.comment, answer.purchase) == (
        9,
        "Quick and friendly",
        purchase,
    )
    assert csp_errors == []
