"""Forms of the feedback area: the customer's complaint and reply, the survey
answer, and the staff forms (a complaint heard at the counter, working one)."""

from __future__ import annotations

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from campaigns.feedback.answers import (
    TEXT_MAX,
    question_field,
    survey_headline,
    survey_questions,
)
from campaigns.feedback.services import BODY_MAX, GOODWILL_MAX
from campaigns.feedback.surveys import COMMENT_MAX
from campaigns.models import ComplaintStatus, ComplaintTopic, QuestionKind, Survey
from members.errors import InvalidInput
from members.formatting import date_format, money_format
from members.forms import ServiceErrorFormMixin
from members.models import Member
from members.numbers import PlainIntegerField
from members.selectors import member_get_by_card, member_get_by_phone


def _helper(submit_label) -> FormHelper:
    helper = FormHelper()
    helper.form_method = "post"
    helper.add_input(Submit("submit", submit_label, css_class="w-100 btn-lg"))
    return helper


class PurchaseChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, purchase):
        date = date_format(purchase.occurred_at)
        return f"{date} · {purchase.store.name} · {money_format(purchase.total)}"


class ComplaintForm(ServiceErrorFormMixin, forms.Form):
    """What a customer writes from the portal; `purchases` are their own."""

    topic = forms.ChoiceField(label=_("Topic"), choices=ComplaintTopic.choices)
    purchase = PurchaseChoiceField(
        label=_("About a purchase (optional)"),
        queryset=None,
        required=False,
        empty_label=_("No particular purchase"),
    )
    message = forms.CharField(
        label=_("Your message"),
        max_length=BODY_MAX,
        widget=forms.Textarea(attrs={"rows": 5}),
    )

    def __init__(self, *args, purchases, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["purchase"].queryset = purchases
        self.helper = _helper(_("Send"))


class ComplaintReplyForm(ServiceErrorFormMixin, forms.Form):
    """The customer's next message in a thread: an answer once we have
    answered, before that something added to their own message."""

    message = forms.CharField(
        label=_("Your answer"),
        max_length=BODY_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args, answered: bool, **kwargs):
        super().__init__(*args, **kwargs)
        if not answered:
            self.fields["message"].label = _("Anything to add to your message?")
        self.helper = _helper(_("Send"))


class SurveyAnswerForm(ServiceErrorFormMixin, forms.Form):
    """Every question of a survey, in order, then an optional comment.

    The headline question's field is "score", the others' `q<question id>`
    (as campaigns.feedback.answers.question_field names them, so a service
    error lands on its field). `questions` are those of survey_questions."""

    comment = forms.CharField(
        label=_("Anything you would like to add? (optional)"),
        max_length=COMMENT_MAX,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args, survey: Survey, questions=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.questions = (
            questions if questions is not None else survey_questions(survey=survey)
        )
        self.headline = survey_headline(survey, self.questions)
        fields = {}
        for question in self.questions:
            name = question_field(question, self.headline)
            fields[name] = _question_field(question)
        # The questions first, the comment last.
        comment = self.fields.pop("comment")
        self.fields.update(fields)
        self.fields["comment"] = comment

    def question_rows(self):
        """(question, bound field) in order, for the template."""
        return [(q, self[question_field(q, self.headline)]) for q in self.questions]

    def answers(self) -> dict:
        """The answers by question id (the headline's is `score`)."""
        return {
            q.pk: self.cleaned_data.get(question_field(q, self.headline))
            for q in self.questions
            if q is not self.headline
        }


def _question_field(question) -> forms.Field:
    label = question.text
    if question.is_scored:
        field = forms.TypedChoiceField(
            label=label,
            coerce=int,
            required=question.required,
            choices=[
                (n, str(n)) for n in range(question.score_min, question.score_max + 1)
            ],
            widget=forms.RadioSelect(attrs={"class": "btn-check"}),
        )
        field.error_messages["required"] = _("Choose a score.")
    elif question.kind == QuestionKind.TEXT:
        field = forms.CharField(
            label=label,
            max_length=TEXT_MAX,
            required=question.required,
            widget=forms.Textarea(attrs={"rows": 3}),
        )
        field.error_messages["required"] = _("Write your answer.")
    elif question.kind == QuestionKind.MULTIPLE:
        field = forms.TypedMultipleChoiceField(
            label=label,
            coerce=int,
            required=question.required,
            choices=[(c.pk, c.text) for c in question.choices.all()],
            widget=forms.CheckboxSelectMultiple,
        )
        field.error_messages["required"] = _("Choose at least one answer.")
    else:
        field = forms.TypedChoiceField(
            label=label,
            coerce=int,
            required=question.required,
            choices=[(c.pk, c.text) for c in question.choices.all()],
            widget=forms.RadioSelect,
        )
        field.error_messages["required"] = _("Choose an answer.")
    return field


# --- staff ----------------------------------------------------------------------------


class CounterComplaintForm(forms.Form):
    """A complaint a customer made at the counter, logged by the cashier.

    The customer is found by card number or phone, as at the Counter.
    """

    customer = forms.CharField(
        label=_("Card number or phone"),
        max_length=32,
        widget=forms.TextInput(attrs={"autofocus": True, "inputmode": "tel"}),
    )
    topic = forms.ChoiceField(label=_("Topic"), choices=ComplaintTopic.choices)
    message = forms.CharField(
        label=_("What the customer said"),
        max_length=BODY_MAX,
        widget=forms.Textarea(attrs={"rows": 5}),
    )

    def clean_customer(self) -> Member:
        text = self.cleaned_data["customer"].strip()
        member = member_get_by_card(card_number=text)
        if member is None:
            try:
                member = member_get_by_phone(phone=text)
            except InvalidInput:
                member = None
        if member is None:
            raise forms.ValidationError(_("No member with this card number or phone."))
        return member


def complaint_assignees():
    """Active staff who may work complaints (for the assignee menu)."""
    perm = Q(
        groups__permissions__codename="change_complaint",
        groups__permissions__content_type__app_label="campaigns",
    ) | Q(
        user_permissions__codename="change_complaint",
        user_permissions__content_type__app_label="campaigns",
    )
    return (
        get_user_model()
        .objects.filter(is_active=True, is_staff=True)
        .filter(perm | Q(is_superuser=True))
        .distinct()
        .order_by("username")
    )


class ComplaintWorkForm(forms.Form):
    """Working a complaint in admin: reply, move it on, assign it, goodwill."""

    reply = forms.CharField(
        label=_("Reply to the customer"),
        max_length=BODY_MAX,
        required=False,
        widget=forms.Textarea(attrs={"rows": 5, "cols": 80}),
        help_text=_("Sent by email (or SMS) and shown on the customer's pages."),
    )
    status = forms.ChoiceField(label=_("Status"), choices=ComplaintStatus.choices)
    assignee = forms.ModelChoiceField(
        label=_("Assigned to"),
        queryset=None,
        required=False,
        empty_label=_("Nobody"),
    )
    goodwill_points = PlainIntegerField(
        label=_("Goodwill points"),
        min_value=0,
        max_value=GOODWILL_MAX,
        required=False,
        help_text=_(
            "Given once, when the complaint is resolved. Above the approval "
            "threshold they wait for another Manager."
        ),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = complaint_assignees()
