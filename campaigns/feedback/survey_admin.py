"""Admin of a survey's questions: the questions inline on the survey, and each
question's page with its choices inline (Django has no nested inlines)."""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from campaigns.models import SurveyAnswer, SurveyChoice, SurveyQuestion
from members.admin_base import TranslatedAdmin, TranslatedStackedInline, every_language
from rewards.admin.base import ReadOnlyInline


class SurveyQuestionInline(TranslatedStackedInline):
    model = SurveyQuestion
    fields = ("order", "kind", "text", "required")
    extra = 0
    show_change_link = True
    verbose_name_plural = _(
        "Questions (save, then open a choice question to write its answers)"
    )


class SurveyChoiceInline(TranslatedStackedInline):
    model = SurveyChoice
    fields = ("order", "text", "reward")
    autocomplete_fields = ("reward",)
    extra = 0


@admin.register(SurveyQuestion)
class SurveyQuestionAdmin(TranslatedAdmin):
    """One question and, for a choice question, the answers it offers."""

    list_display = ("text", "survey", "kind", "required", "order")
    list_filter = ("kind", "required", "survey")
    list_select_related = ("survey",)
    search_fields = every_language("text")
    autocomplete_fields = ("survey",)
    fields = ("survey", "order", "kind", "text", "required")
    inlines = (SurveyChoiceInline,)

    def has_delete_permission(self, request, obj=None):
        # A question with answers is kept (its answers PROTECT it).
        return super().has_delete_permission(request, obj) and (
            obj is None or not obj.answers.exists()
        )


class SurveyAnswerInline(ReadOnlyInline):
    """A response's answers, question by question (read only: customers' words)."""

    model = SurveyAnswer
    fields = ("question", "number", "chosen", "text")
    readonly_fields = fields

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("question")
            .prefetch_related("choices")
        )

    @admin.display(description=_("choices"))
    def chosen(self, obj):
        return ", ".join(c.text for c in obj.choices.all())
