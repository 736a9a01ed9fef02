"""A customer answers a survey of several questions from the link, on a phone:
every question on one narrow page, a clear error under each required one left
out, then the answers saved and thanked."""

from __future__ import annotations

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from members.tests.factories import MemberFactory, StoreFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_customer_answers_every_question_on_a_phone(page, live_server):
    from campaigns.feedback.selectors import survey_link_token
    from campaigns.models import SurveyResponse
    from campaigns.tests.factories import wishes_survey_make

    page.set_default_timeout(5_000)
    page.set_viewport_size({"width": 375, "height": 740})
    member = MemberFactory(store=StoreFactory(code="sq"), email="sq@example.com")
    survey, wish, often, happy, other = wishes_survey_make()
    token = survey_link_token(survey=survey, member=member, purchase=None)
    page.goto(live_server.url + reverse("campaigns:survey_answer", args=[token]))

    expect(page.get_by_test_id("survey-question")).to_have_count(4)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375, width  # nothing wider than the phone

    page.get_by_role("button", name="Send").click()
    errors = page.get_by_test_id("question-error")
    expect(errors).to_have_count(3)
    expect(errors.nth(0)).to_have_text("Choose at least one answer.")
    expect(errors.nth(1)).to_have_text("Choose an answer.")
    expect(errors.nth(2)).to_have_text("Choose a score.")

    page.get_by_label("Coffee").check()
    page.get_by_label("Cinema").check()
    page.get_by_label("Yearly").check()
    page.locator("label.survey-score", has_text="4").click()
    page.locator(f"textarea[name=q{other.pk}]").fill("<i>Cheesecake</i>")
    page.get_by_role("button", name="Send").click()
    expect(page.get_by_test_id("survey-thanks")).to_contain_text("Thank you!")

    response = SurveyResponse.objects.get(member=member)
    answers = {a.question_id: a for a in response.answers.all()}
    assert sorted(c.text_en for c in answers[wish.pk].choices.all()) == [
        "Cinema",
        "Coffee",
    ]
    assert [c.text_en for c in answers[often.pk].choices.all()] == ["Yearly"]
    assert answers[happy.pk].number == 4
    assert answers[other.pk].text == "<i>Cheesecake</i>"
