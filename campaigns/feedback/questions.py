"""Writes of a survey's questions and choices from the back office: saved and
deleted with the staff audit row (members.audit.audited_save/audited_delete).
A question or choice that has answers cannot be deleted (its answers PROTECT
it, or would lose what members chose): ProtectedError / Conflict."""

from __future__ import annotations

from django.utils.translation import gettext as _

from campaigns.models import SurveyChoice, SurveyQuestion
from members.audit import StaffActor, audited_delete, audited_save
from members.errors import Conflict


def survey_question_save(
    *, question: SurveyQuestion, actor: StaffActor | None
) -> SurveyQuestion:
    """Validate and save a question, audited. Locks nothing; queues nothing."""
    return audited_save(obj=question, actor=actor)


def survey_question_delete(*, question: SurveyQuestion, actor: StaffActor) -> None:
    """Delete a question nobody answered (Conflict otherwise), audited."""
    if question.answers.exists():
        raise Conflict(
            _("This question has answers: switch the survey off instead."),
            field=None,
        )
    audited_delete(obj=question, actor=actor)


def survey_choice_save(
    *, choice: SurveyChoice, actor: StaffActor | None
) -> SurveyChoice:
    """Validate and save a choice, audited. Locks nothing; queues nothing."""
    return audited_save(obj=choice, actor=actor)


def survey_choice_delete(*, choice: SurveyChoice, actor: StaffActor) -> None:
    """Delete a choice nobody chose (Conflict otherwise), audited."""
    if choice.answers.exists():
        raise Conflict(
            _("Members chose this answer: it cannot be deleted."), field=None
        )
    audited_delete(obj=choice, actor=actor)
