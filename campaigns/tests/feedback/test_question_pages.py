"""The customer's survey page with several questions (every question in
order, a clear error under the question left out, what was typed kept, free
text escaped) and the staff pages of questions: the inline on a survey, a
question's choices, sending a survey to a segment."""

from __future__ import annotations

import pytest
from django.urls import reverse

from campaigns.feedback.selectors import survey_link_token
from campaigns.models import (
    SurveyAnswer,
    SurveyInvitation,
    SurveyQuestion,
    SurveyResponse,
)
from campaigns.tests.factories import segment_of, wishes_survey_make
from members.tests.factories import MemberFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def wishes():
    return wishes_survey_make()


def _url(survey, member):
    token = survey_link_token(survey=survey, member=member, purchase=None)
    return reverse("campaigns:survey_answer", args=[token])


class TestCustomerPage:
    def test_every_question_is_asked_in_order(self, client, wishes, member):
        survey, *_ = wishes
        html = client.get(_url(survey, member)).content.decode()
        positions = [
            html.index(text)
            for text in ("Which rewards?", "How often?", "How happy?", "Anything else?")
        ]
        assert positions == sorted(positions)
        assert html.count('data-testid="survey-question"') == 4
        assert 'type="checkbox"' in html and 'type="radio"' in html

    def test_questions_in_the_members_language(self, client, wishes, member):
        survey, *_ = wishes
        client.cookies["django_language"] = "uk"
        html = client.get(_url(survey, member), HTTP_ACCEPT_LANGUAGE="uk").content
        assert "Which rewards? (uk)" in html.decode()

    def test_missing_answers_are_named_and_typed_text_is_kept(
        self, client, wishes, member
    ):
        survey, wish, often, happy, other = wishes
        response = client.post(
            _url(survey, member),
            {f"q{happy.pk}": "4", f"q{other.pk}": "<b>more</b> cake"},
        )
        html = response.content.decode()
        assert response.status_code == 200
        assert "Choose at least one answer." in html
        assert "Choose an answer." in html
        assert "&lt;b&gt;more&lt;/b&gt; cake" in html
        assert "<b>more</b>" not in html
        assert not SurveyResponse.objects.exists()

    def test_answers_are_stored_and_thanked(self, client, wishes, member):
        survey, wish, often, happy, other = wishes
        cake = wish.choices.get(text_en="Cake").pk
        cinema = wish.choices.get(text_en="Cinema").pk
        monthly = often.choices.get(text_en="Monthly").pk
        response = client.post(
            _url(survey, member),
            {
                f"q{wish.pk}": [cake, cinema],
                f"q{often.pk}": monthly,
                f"q{happy.pk}": "5",
                f"q{other.pk}": "Cheesecake",
            },
        )
        assert response.status_code == 200
        saved = SurveyResponse.objects.get(member=member)
        answers = {a.question_id: a for a in saved.answers.all()}
        assert {c.pk for c in answers[wish.pk].choices.all()} == {cake, cinema}
        assert answers[happy.pk].number == 5
        assert answers[other.pk].text == "Cheesecake"
        # Answered: the link now only thanks.
        again = client.post(_url(survey, member), {f"q{happy.pk}": "1"})
        assert again.status_code == 200
        assert SurveyAnswer.objects.filter(response__member=member).count() == 4

    def test_a_choice_not_offered_is_an_error_not_a_500(self, client, wishes, member):
        survey, wish, often, happy, _other = wishes
        response = client.post(
            _url(survey, member),
            {f"q{wish.pk}": "999999", f"q{often.pk}": "abc", f"q{happy.pk}": "9"},
        )
        assert response.status_code == 200
        assert "Select a valid choice" in response.content.decode()
        assert not SurveyResponse.objects.exists()


class TestStaffPages:
    def test_survey_page_has_its_questions_inline(self, admin_client, wishes):
        survey, *_ = wishes
        url = reverse("admin:campaigns_survey_change", args=[survey.pk])
        html = admin_client.get(url).content.decode()
        assert "Which rewards?" in html
        assert reverse("admin:campaigns_survey_send", args=[survey.pk]) in html
        assert reverse("admin:analytics_survey_results", args=[survey.pk]) in html

    def test_question_pages(self, admin_client, wishes):
        _survey, wish, *_ = wishes
        changelist = reverse("admin:campaigns_surveyquestion_changelist")
        assert admin_client.get(changelist).status_code == 200
        found = admin_client.get(changelist, {"q": "Which rewards"})
        assert "Which rewards?" in found.content.decode()
        assert (
            admin_client.get(reverse("admin:campaigns_surveyquestion_add")).status_code
            == 200
        )
        change = admin_client.get(
            reverse("admin:campaigns_surveyquestion_change", args=[wish.pk])
        )
        assert change.status_code == 200
        assert "Cinema" in change.content.decode()

    def test_marketer_adds_a_question_with_texts_in_every_language(
        self, client, marketer, wishes
    ):
        survey, *_ = wishes
        client.force_login(marketer)
        response = client.post(
            reverse("admin:campaigns_surveyquestion_add"),
            {
                "survey": survey.pk,
                "order": 9,
                "kind": "nps",
                "text_uk": "Чи порадите нас?",
                "text_ru": "Посоветуете нас?",
                "text_ro": "Ne recomandați?",
                "text_en": "Would you recommend us?",
                "required": "on",
                "choices-TOTAL_FORMS": "0",
                "choices-INITIAL_FORMS": "0",
                "choices-MIN_NUM_FORMS": "0",
                "choices-MAX_NUM_FORMS": "1000",
            },
        )
        assert response.status_code == 302, response.content.decode()[:2000]
        question = SurveyQuestion.objects.get(survey=survey, order=9)
        assert (question.text_ro, question.kind) == ("Ne recomandați?", "nps")

    def test_send_to_a_segment(
        self, client, marketer, wishes, store, django_capture_on_commit_callbacks
    ):
        survey, *_ = wishes
        fan = MemberFactory(store=store, email="fan@example.com")
        fan.email_consent = True
        fan.save(update_fields=["email_consent"])
        segment = segment_of([fan], name="Fans")
        client.force_login(marketer)
        url = reverse("admin:campaigns_survey_send", args=[survey.pk])
        assert client.get(url).status_code == 200
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(url, {"segment": segment.pk})
        assert response.status_code == 302
        assert SurveyInvitation.objects.get().member == fan
        bad = client.post(url, {"segment": "nope"})
        assert bad.status_code == 200
        assert "Select a valid choice" in bad.content.decode()

    def test_cashier_may_not_send(self, client, cashier, wishes):
        client.force_login(cashier)
        url = reverse("admin:campaigns_survey_send", args=[wishes[0].pk])
        assert client.get(url).status_code in (302, 403)


def test_a_question_added_inline_on_a_survey_is_saved_and_audited(admin_client):
    from members.models import StaffAuditEvent

    response = admin_client.post(
        reverse("admin:campaigns_survey_add"),
        {
            "name": "Quick",
            "kind": "questions",
            "active": "on",
            "question_en": "Two minutes?",
            "question_uk": "Дві хвилини?",
            "question_ru": "",
            "question_ro": "",
            "delay_hours": "24",
            "window_days": "3",
            "link_valid_days": "14",
            "questions-TOTAL_FORMS": "1",
            "questions-INITIAL_FORMS": "0",
            "questions-MIN_NUM_FORMS": "0",
            "questions-MAX_NUM_FORMS": "1000",
            "questions-0-order": "1",
            "questions-0-kind": "text",
            "questions-0-text_en": "What should we bake?",
            "questions-0-text_uk": "Що нам спекти?",
            "questions-0-text_ru": "",
            "questions-0-text_ro": "",
            "questions-0-required": "on",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    question = SurveyQuestion.objects.get(survey__name="Quick")
    assert (question.kind, question.text_uk) == ("text", "Що нам спекти?")
    assert StaffAuditEvent.objects.filter(
        object_type="campaigns.surveyquestion", object_id=str(question.pk)
    ).exists()
