"""The questions of a survey, their choices, and each answer to them.

A survey asks one or more questions in `order`: a recommendation score (0–10,
the NPS question), a score 1–5, one choice, several choices or free text. Texts
are staff-written and kept in every portal language (campaigns/translation.py).
A SurveyResponse (one member, one invitation) holds one SurveyAnswer per
question answered. Written by `campaigns.feedback.surveys` only.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class QuestionKind(models.TextChoices):
    NPS = "nps", _("Recommendation score (0–10)")
    SCORE = "score", _("Score (1–5)")
    SINGLE = "single", _("One choice")
    MULTIPLE = "multiple", _("Several choices")
    TEXT = "text", _("Free text")


QUESTION_RANGE = {QuestionKind.NPS: (0, 10), QuestionKind.SCORE: (1, 5)}
CHOICE_KINDS = (QuestionKind.SINGLE, QuestionKind.MULTIPLE)


class SurveyQuestion(models.Model):
    """One question of a survey, asked in `order` (then by id)."""

    survey = models.ForeignKey(
        "campaigns.Survey",
        verbose_name=_("survey"),
        on_delete=models.CASCADE,
        related_name="questions",
    )
    kind = models.CharField(_("kind"), max_length=16, choices=QuestionKind.choices)
    # In every language (campaigns/translation.py): text_uk, text_en...
    text = models.CharField(_("question"), max_length=300)
    required = models.BooleanField(_("required"), default=True)
    order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("survey question")
        verbose_name_plural = _("survey questions")
        ordering = ["order", "id"]

    def __str__(self) -> str:
        return self.text

    @property
    def is_scored(self) -> bool:
        return self.kind in QUESTION_RANGE

    @property
    def has_choices(self) -> bool:
        return self.kind in CHOICE_KINDS

    @property
    def score_min(self) -> int:
        return QUESTION_RANGE.get(self.kind, (0, 0))[0]

    @property
    def score_max(self) -> int:
        return QUESTION_RANGE.get(self.kind, (0, 0))[1]


class SurveyChoice(models.Model):
    """One answer a choice question offers. `reward`, when set, says which
    catalog reward the choice stands for (wished rewards next to redemptions)."""

    question = models.ForeignKey(
        SurveyQuestion,
        verbose_name=_("question"),
        on_delete=models.CASCADE,
        related_name="choices",
    )
    # In every language (campaigns/translation.py): text_uk, text_en...
    text = models.CharField(_("choice"), max_length=200)
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    reward = models.ForeignKey(
        "rewards.Reward",
        verbose_name=_("reward"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("The catalog reward this choice stands for, if any."),
    )

    class Meta:
        verbose_name = _("survey choice")
        verbose_name_plural = _("survey choices")
        ordering = ["order", "id"]

    def __str__(self) -> str:
        return self.text


class SurveyAnswer(models.Model):
    """A member's answer to one question: a number (scores), choices, or text."""

    response = models.ForeignKey(
        "campaigns.SurveyResponse",
        verbose_name=_("response"),
        on_delete=models.CASCADE,
        related_name="answers",
        # The index on (response, question) serves it (tests/house/test_indexes.py).
        db_index=False,
    )
    question = models.ForeignKey(
        SurveyQuestion,
        verbose_name=_("question"),
        on_delete=models.PROTECT,
        related_name="answers",
    )
    number = models.PositiveSmallIntegerField(_("score"), null=True, blank=True)
    text = models.TextField(_("text"), blank=True, max_length=2000)
    choices = models.ManyToManyField(
        SurveyChoice, verbose_name=_("choices"), blank=True, related_name="answers"
    )

    class Meta:
        verbose_name = _("survey answer")
        verbose_name_plural = _("survey answers")
        ordering = ["response_id", "question__order", "question_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["response", "question"], name="survey_answer_once"
            ),
            models.CheckConstraint(
                condition=models.Q(number__lte=10), name="survey_answer_at_most_10"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.question_id} · {self.number if self.number is not None else ''}"
