"""The questions of a survey as a member answers them: which question is the
headline (its answer is also SurveyResponse.score, what the NPS and
satisfaction figures read), checking each answer, and writing the answers of
one response. `campaigns.feedback.surveys.survey_response_submit` is the
service; this module holds its parts."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.utils.translation import gettext as _

from campaigns.locks import survey_lock
from campaigns.models import (
    QuestionKind,
    Survey,
    SurveyAnswer,
    SurveyKind,
    SurveyQuestion,
    SurveyResponse,
)
from members.errors import InvalidInput

TEXT_MAX = 2000
LANGS = ("uk", "ru", "ro", "en")
HEADLINE_KIND = {
    SurveyKind.NPS: QuestionKind.NPS,
    SurveyKind.SATISFACTION: QuestionKind.SCORE,
}
HEADLINE_FIELD = "score"


def _headline_row(survey: Survey) -> SurveyQuestion:
    """The one question of a survey that has no question rows yet, unsaved."""
    texts = {f"text_{lang}": getattr(survey, f"question_{lang}", "") for lang in LANGS}
    return SurveyQuestion(
        survey=survey,
        kind=HEADLINE_KIND[survey.kind],
        text=survey.question,
        required=True,
        order=0,
        **texts,
    )


def survey_questions(*, survey: Survey) -> list[SurveyQuestion]:
    """The questions in order, with their choices. A NPS or satisfaction survey
    still without question rows asks its `question` (unsaved: the first answer
    saves it, see survey_questions_ensure). Two queries."""
    rows = list(
        SurveyQuestion.objects.filter(survey=survey)
        .prefetch_related("choices")
        .order_by("order", "id")
    )
    if not rows and survey.kind in HEADLINE_KIND:
        return [_headline_row(survey)]
    return rows


def survey_headline(survey: Survey, questions: list[SurveyQuestion]):
    """The first question of the survey's headline kind (NPS 0–10 for an NPS
    survey, 1–5 for a satisfaction one), or None."""
    kind = HEADLINE_KIND.get(survey.kind)
    return next((q for q in questions if q.kind == kind), None)


def question_field(question: SurveyQuestion, headline: SurveyQuestion | None) -> str:
    """The form field (and error field) of a question: "score" for the
    headline, `q<id>` for the others."""
    if question is headline:
        return HEADLINE_FIELD
    return f"q{question.pk}"


def survey_questions_ensure(*, survey: Survey) -> list[SurveyQuestion]:
    """The survey's questions, saving the headline one first when the survey
    has no rows yet (a survey made before questions, or outside admin). Locks
    the survey row while it does so; queues nothing."""
    questions = survey_questions(survey=survey)
    if all(q.pk for q in questions):
        return questions
    with transaction.atomic():
        survey_lock(survey_id=survey.pk)
        if not SurveyQuestion.objects.filter(survey=survey).exists():
            _headline_row(survey).save()
    return survey_questions(survey=survey)


@dataclass
class CheckedAnswer:
    question: SurveyQuestion
    number: int | None = None
    text: str = ""
    choice_ids: tuple[int, ...] = ()


def _is_empty(value) -> bool:
    return value is None or value == "" or value == [] or value == ()


def _as_int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def answer_check(
    question: SurveyQuestion, value, *, field: str
) -> CheckedAnswer | None:
    """One answer checked against its question: None when left empty and
    optional; InvalidInput naming `field` when missing or out of bounds."""
    if _is_empty(value):
        if not question.required:
            return None
        raise InvalidInput(_missing(question), field=field)
    if question.is_scored:
        number = _as_int(value)
        if number is None or not question.score_min <= number <= question.score_max:
            raise InvalidInput(
                _("Choose a score from %(min)s to %(max)s.")
                % {"min": question.score_min, "max": question.score_max},
                field=field,
            )
        return CheckedAnswer(question=question, number=number)
    if question.kind == QuestionKind.TEXT:
        text = str(value).strip()
        if len(text) > TEXT_MAX:
            raise InvalidInput(
                _("Keep the answer under %(max)s characters.") % {"max": TEXT_MAX},
                field=field,
            )
        if not text:
            return answer_check(question, None, field=field)
        return CheckedAnswer(question=question, text=text)
    values = value if isinstance(value, list | tuple | set) else [value]
    ids = [_as_int(v) for v in values]
    offered = {c.pk for c in question.choices.all()}
    if any(i not in offered for i in ids):
        raise InvalidInput(_("Choose one of the answers offered."), field=field)
    if question.kind == QuestionKind.SINGLE and len(set(ids)) != 1:
        raise InvalidInput(_("Choose one answer."), field=field)
    return CheckedAnswer(question=question, choice_ids=tuple(sorted(set(ids))))


def _missing(question: SurveyQuestion) -> str:
    if question.is_scored:
        return _("Choose a score.")
    if question.kind == QuestionKind.TEXT:
        return _("Write your answer.")
    if question.kind == QuestionKind.MULTIPLE:
        return _("Choose at least one answer.")
    return _("Choose an answer.")


def answers_write(response: SurveyResponse, checked: list[CheckedAnswer]) -> None:
    """The answers of a new response: one insert, then one for the choices."""
    rows = SurveyAnswer.objects.bulk_create(
        [
            SurveyAnswer(
                response=response,
                question=c.question,
                number=c.number,
                text=c.text,
            )
            for c in checked
        ]
    )
    through = SurveyAnswer.choices.through
    links = [
        through(surveyanswer_id=row.pk, surveychoice_id=choice_id)
        for row, c in zip(rows, checked, strict=True)
        for choice_id in c.choice_ids
    ]
    if links:
        through.objects.bulk_create(links)
