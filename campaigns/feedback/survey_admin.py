"""Admin of a survey's questions: the questions inline on the survey, and each
question's page with its choices inline (Django has no nested inlines)."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from campaigns.feedback.invites import survey_send_to_segment
from campaigns.feedback.questions import (
    survey_choice_delete,
    survey_choice_save,
    survey_question_delete,
    survey_question_save,
)
from campaigns.models import Segment, SurveyAnswer, SurveyChoice, SurveyQuestion
from members.admin_base import TranslatedAdmin, TranslatedStackedInline, every_language
from members.audit import StaffActor
from members.errors import ServiceError
from members.formatting import number_format
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

    def save_model(self, request, obj, form, change):
        survey_question_save(question=obj, actor=StaffActor.from_request(request))

    def delete_model(self, request, obj):
        survey_question_delete(question=obj, actor=StaffActor.from_request(request))

    def delete_queryset(self, request, queryset):
        actor = StaffActor.from_request(request)
        for question in queryset:
            survey_question_delete(question=question, actor=actor)

    def save_formset(self, request, form, formset, change):
        save_inline_formset(request, formset)


def save_inline_formset(request, formset) -> None:
    """The question and choice inlines saved and deleted through the services
    (audited); a question or choice with answers is not deleted."""
    actor = StaffActor.from_request(request)
    instances = formset.save(commit=False)
    for obj in formset.deleted_objects:
        try:
            if isinstance(obj, SurveyQuestion):
                survey_question_delete(question=obj, actor=actor)
            else:
                survey_choice_delete(choice=obj, actor=actor)
        except ServiceError as exc:
            messages.error(request, exc.message)
    for obj in instances:
        if isinstance(obj, SurveyQuestion):
            survey_question_save(question=obj, actor=actor)
        else:
            survey_choice_save(choice=obj, actor=actor)


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


class SurveySendForm(forms.Form):
    segment = forms.ModelChoiceField(
        label=_("Segment"),
        queryset=Segment.objects.order_by("name"),
        help_text=_(
            "Each member who agreed to messages gets the survey once; members "
            "who were sent it before are skipped."
        ),
    )


def survey_send_view(model_admin, request, object_id):
    """Send a survey to a segment (campaigns.feedback.invites.survey_send_to_segment)."""
    survey = model_admin.get_object(request, unquote(object_id))
    if survey is None:
        raise Http404
    if not model_admin.has_change_permission(request, survey):
        raise PermissionDenied
    form = SurveySendForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            queued = survey_send_to_segment(
                survey=survey,
                segment=form.cleaned_data["segment"],
                actor=StaffActor(user=request.user),
            )
        except ServiceError as exc:
            form.add_error(None, exc.message)
        else:
            model_admin.message_user(
                request,
                ngettext(
                    "The survey is on its way to %(n)s member.",
                    "The survey is on its way to %(n)s members.",
                    queued,
                )
                % {"n": number_format(queued)},
                messages.SUCCESS,
            )
            return HttpResponseRedirect(
                reverse("admin:campaigns_survey_change", args=[survey.pk])
            )
    return TemplateResponse(
        request,
        "admin/campaigns/survey/send.html",
        {
            **model_admin.admin_site.each_context(request),
            "opts": model_admin.model._meta,
            "original": survey,
            "title": gettext("Send “%(name)s” to a segment") % {"name": survey.name},
            "form": form,
        },
    )
