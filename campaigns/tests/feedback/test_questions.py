"""Surveys with several questions: every kind is answered and checked, the
headline (NPS or 1–5) answer is also the response's score, so the NPS figures
read the NPS question; a one-question survey saves its question on the first
answer; the data migration gives old surveys the same shape."""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps as django_apps
from django.utils import timezone

from campaigns.feedback.answers import survey_questions
from campaigns.feedback.selectors import nps_for_period
from campaigns.feedback.surveys import survey_response_submit
from campaigns.models import (
    QuestionKind,
    SurveyAnswer,
    SurveyKind,
    SurveyQuestion,
    SurveyResponse,
)
from campaigns.tests.factories import (
    question_make,
    response_make,
    survey_make,
    wishes_survey_make,
)
from members.errors import Conflict, InvalidInput
from members.tests.factories import MemberFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def wishes():
    return wishes_survey_make()


def _choice(question, text):
    return question.choices.get(text_en=text).pk


class TestAnswering:
    def test_every_kind_is_stored_per_question(self, wishes, member):
        survey, wish, often, happy, other = wishes
        response = survey_response_submit(
            survey=survey,
            member=member,
            purchase=None,
            answers={
                wish.pk: [_choice(wish, "Coffee"), _choice(wish, "Cinema")],
                often.pk: _choice(often, "Yearly"),
                happy.pk: "4",
                other.pk: "  More <b>cake</b>  ",
            },
        )
        assert response.score is None  # no headline question in a "questions" survey
        got = {a.question_id: a for a in response.answers.all()}
        assert sorted(c.text_en for c in got[wish.pk].choices.all()) == [
            "Cinema",
            "Coffee",
        ]
        assert [c.text_en for c in got[often.pk].choices.all()] == ["Yearly"]
        assert got[happy.pk].number == 4
        assert got[other.pk].text == "More <b>cake</b>"  # stored as typed, trimmed

    def test_optional_text_may_be_left_out(self, wishes, member):
        survey, wish, often, happy, _other = wishes
        response = survey_response_submit(
            survey=survey,
            member=member,
            purchase=None,
            answers={
                wish.pk: [_choice(wish, "Cake")],
                often.pk: _choice(often, "Monthly"),
                happy.pk: 5,
            },
        )
        assert response.answers.count() == 3

    def test_a_required_question_left_empty_names_its_field(self, wishes, member):
        survey, wish, often, happy, _other = wishes
        with pytest.raises(InvalidInput, match="Choose at least one answer.") as exc:
            survey_response_submit(
                survey=survey,
                member=member,
                purchase=None,
                answers={wish.pk: [], often.pk: _choice(often, "Monthly"), happy.pk: 3},
            )
        assert exc.value.field == f"q{wish.pk}"
        assert not SurveyResponse.objects.exists()

    @pytest.mark.parametrize("score", [0, 6, "x"])
    def test_a_score_outside_1_to_5_is_refused(self, wishes, member, score):
        survey, wish, often, happy, _other = wishes
        with pytest.raises(InvalidInput, match="Choose a score from 1 to 5.") as exc:
            survey_response_submit(
                survey=survey,
                member=member,
                purchase=None,
                answers={
                    wish.pk: [_choice(wish, "Cake")],
                    often.pk: _choice(often, "Monthly"),
                    happy.pk: score,
                },
            )
        assert exc.value.field == f"q{happy.pk}"

    def test_a_choice_of_another_question_is_refused(self, wishes, member):
        survey, wish, often, happy, _other = wishes
        with pytest.raises(InvalidInput, match="Choose one of the answers offered."):
            survey_response_submit(
                survey=survey,
                member=member,
                purchase=None,
                answers={
                    wish.pk: [_choice(often, "Monthly")],
                    often.pk: _choice(often, "Monthly"),
                    happy.pk: 3,
                },
            )

    def test_one_choice_takes_only_one(self, wishes, member):
        survey, wish, often, happy, _other = wishes
        with pytest.raises(InvalidInput, match="Choose one answer."):
            survey_response_submit(
                survey=survey,
                member=member,
                purchase=None,
                answers={
                    wish.pk: [_choice(wish, "Cake")],
                    often.pk: [_choice(often, "Monthly"), _choice(often, "Yearly")],
                    happy.pk: 3,
                },
            )

    def test_too_long_text_is_refused(self, wishes, member):
        survey, wish, often, happy, other = wishes
        with pytest.raises(InvalidInput, match="under 2000 characters"):
            survey_response_submit(
                survey=survey,
                member=member,
                purchase=None,
                answers={
                    wish.pk: [_choice(wish, "Cake")],
                    often.pk: _choice(often, "Monthly"),
                    happy.pk: 3,
                    other.pk: "x" * 2001,
                },
            )

    def test_a_second_answer_is_a_conflict(self, wishes, member):
        survey, wish, often, happy, _other = wishes
        answers = {
            wish.pk: [_choice(wish, "Cake")],
            often.pk: _choice(often, "Monthly"),
            happy.pk: 3,
        }
        survey_response_submit(
            survey=survey, member=member, purchase=None, answers=answers
        )
        with pytest.raises(Conflict):
            survey_response_submit(
                survey=survey, member=member, purchase=None, answers=answers
            )
        assert SurveyAnswer.objects.count() == 3


class TestHeadline:
    def test_nps_answer_with_more_questions_counts_in_the_nps(self, member, store):
        survey = survey_make(kind=SurveyKind.NPS)
        nps = question_make(survey, QuestionKind.NPS, text="Recommend?", order=0)
        why = question_make(survey, QuestionKind.TEXT, text="Why?", order=1)
        response = survey_response_submit(
            survey=survey,
            member=member,
            purchase=None,
            answers={nps.pk: 10, why.pk: "Great bread"},
        )
        assert response.score == 10
        other = MemberFactory(store=store)
        survey_response_submit(
            survey=survey, member=other, purchase=None, score=3, answers={why.pk: "x"}
        )
        now = timezone.now()
        result = nps_for_period(
            start=now - timezone.timedelta(days=1), end=now + timezone.timedelta(1)
        )
        assert (result.responses, result.promoters, result.detractors) == (2, 1, 1)
        assert result.score == 0.0

    def test_first_answer_saves_the_question_of_a_one_question_survey(
        self, member, store
    ):
        survey = survey_make(kind=SurveyKind.SATISFACTION)
        assert [q.pk for q in survey_questions(survey=survey)] == [None]
        response = survey_response_submit(
            survey=survey, member=member, purchase=None, score=4
        )
        question = SurveyQuestion.objects.get(survey=survey)
        assert (question.kind, question.text_en, question.text_uk) == (
            QuestionKind.SCORE,
            "How likely are you to recommend us?",
            "Наскільки ймовірно, що ви порадите нас?",
        )
        assert response.answers.get().number == 4 == response.score
        other = MemberFactory(store=store)
        survey_response_submit(survey=survey, member=other, purchase=None, score=2)
        assert SurveyQuestion.objects.filter(survey=survey).count() == 1


class TestDataMigration:
    def test_old_surveys_get_their_question_and_answers_and_the_same_nps(self, store):
        migration = importlib.import_module(
            "campaigns.migrations.0019_survey_questions_from_one_question"
        )
        nps = survey_make(kind=SurveyKind.NPS)
        sat = survey_make(kind=SurveyKind.SATISFACTION, question_en="Happy?")
        scores = [10, 9, 8, 6, 0]
        for score in scores:
            response_make(survey=nps, member=MemberFactory(store=store), score=score)
        response_make(survey=sat, member=MemberFactory(store=store), score=5)
        now = timezone.now()
        window = {
            "start": now - timezone.timedelta(1),
            "end": now + timezone.timedelta(1),
        }
        before = nps_for_period(**window)

        migration.forwards(django_apps, None)
        migration.forwards(django_apps, None)  # a second run adds nothing

        question = SurveyQuestion.objects.get(survey=nps)
        assert (question.kind, question.required, question.text_en) == (
            QuestionKind.NPS,
            True,
            "How likely are you to recommend us?",
        )
        assert sorted(question.answers.values_list("number", flat=True)) == sorted(
            scores
        )
        assert SurveyQuestion.objects.get(survey=sat).kind == QuestionKind.SCORE
        assert SurveyAnswer.objects.count() == 6
        assert nps_for_period(**window) == before


class TestErasure:
    def test_erasing_a_member_erases_their_written_answers_keeps_the_rest(
        self, wishes, member
    ):
        from campaigns.privacy import messages_and_feedback_erase
        from members.privacy import ERASED_TEXT

        survey, wish, often, happy, other = wishes
        response = survey_response_submit(
            survey=survey,
            member=member,
            purchase=None,
            answers={
                wish.pk: [_choice(wish, "Cake")],
                often.pk: _choice(often, "Monthly"),
                happy.pk: 4,
                other.pk: "I am Ivan from Lviv",
            },
        )
        messages_and_feedback_erase(member)
        answers = {a.question_id: a for a in response.answers.all()}
        assert answers[other.pk].text == ERASED_TEXT
        assert answers[happy.pk].number == 4
        assert [c.text_en for c in answers[wish.pk].choices.all()] == ["Cake"]
