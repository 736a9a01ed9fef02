"""seed_demo writes the survey of several questions: "Which rewards would you
like?" in the four languages, with answers to each question, its wishes next
to the catalog's redemptions, and a results page that shows them."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import translation

from analytics.selectors.surveys import survey_results, survey_wishes_vs_redemptions
from campaigns.models import QuestionKind, Survey, SurveyChoice, SurveyQuestion
from members.models import User

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("staff_groups")]

LANGS = ("uk", "ru", "ro", "en")


def test_seed_demo_writes_the_rewards_survey_with_answers(client):
    out = StringIO()
    call_command("seed_demo", members=30, months=2, stdout=out)
    assert "Surveys: 'Which rewards would you like?' with 4 questions" in out.getvalue()
    assert "/survey/" in out.getvalue()  # the demo customer's link
    survey = Survey.objects.get(name="Which rewards would you like?")
    kinds = list(survey.questions.values_list("kind", flat=True))
    assert kinds == [
        QuestionKind.MULTIPLE,
        QuestionKind.SINGLE,
        QuestionKind.SCORE,
        QuestionKind.TEXT,
    ]
    for row in [
        *SurveyQuestion.objects.filter(survey=survey),
        *SurveyChoice.objects.filter(question__survey=survey),
    ]:
        texts = [getattr(row, f"text_{lang}") for lang in LANGS]
        assert all(texts), row.pk
    with translation.override("uk"):
        assert survey.questions.first().text.startswith("Які винагороди")

    responses, results = survey_results(survey=survey)
    assert responses >= 25
    for result in results[:3]:
        assert sum(r.count for r in result.rows) >= responses
    assert results[3].texts
    wishes = survey_wishes_vs_redemptions(survey=survey)
    assert len(wishes) >= 3
    assert sum(w.wished for w in wishes) > 0
    assert sum(w.redeemed for w in wishes) > 0

    client.force_login(User.objects.filter(groups__name="Manager").first())
    page = client.get(reverse("admin:analytics_survey_results", args=[survey.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert html.count('data-testid="wish-row"') == len(wishes)
    # The NPS survey of the feedback demo has its question row and answers.
    nps = Survey.objects.get(kind="nps")
    question = nps.questions.get()
    assert question.answers.count() == nps.responses.count() >= 30
