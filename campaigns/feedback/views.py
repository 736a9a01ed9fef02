"""Customer pages of the feedback area.

/feedback/ lists the logged-in member's own complaints (and asks about their
latest purchase); /feedback/<id>/ is one of them: another member's id is a 404,
like one that does not exist. /survey/<token>/ answers a survey from a signed
link, without logging in: a changed link is refused (400), an old one too (410).
"""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from campaigns.feedback.forms import (
    ComplaintForm,
    ComplaintReplyForm,
    SurveyAnswerForm,
)
from campaigns.feedback.selectors import (
    SurveyLinkExpired,
    SurveyLinkInvalid,
    complaint_get_for_member,
    complaint_purchase_choices,
    complaints_for_member,
    survey_link_read,
    survey_response_get,
)
from campaigns.feedback.services import complaint_customer_reply, complaint_file
from campaigns.feedback.surveys import survey_response_submit
from campaigns.models import ComplaintSender, ComplaintStatus
from campaigns.templatetags.feedback_tags import survey_prompt_context
from members.errors import Conflict, NotFound, ServiceError
from members.views import member_required

LIST_LIMIT = 50


@require_GET
@member_required
def feedback_list(request, member):
    return render(
        request,
        "campaigns/feedback/list.html",
        {
            "member": member,
            "complaints": complaints_for_member(member=member)[:LIST_LIMIT],
            **survey_prompt_context(member),
        },
    )


@require_http_methods(["GET", "POST"])
@member_required
def complaint_new(request, member):
    purchases = complaint_purchase_choices(member=member)
    form = ComplaintForm(
        request.POST if request.method == "POST" else None, purchases=purchases
    )
    if form.is_valid():
        data = form.cleaned_data
        try:
            complaint = complaint_file(
                member=member,
                topic=data["topic"],
                body=data["message"],
                purchase=data["purchase"],
            )
        except ServiceError as exc:
            form.add_service_error(exc)
        else:
            messages.success(
                request,
                _("Thank you. We have your message and will answer you here soon."),
            )
            return redirect("campaigns:complaint_detail", complaint.pk)
    return render(request, "campaigns/feedback/new.html", {"form": form})


@require_http_methods(["GET", "POST"])
@member_required
def complaint_detail(request, member, complaint_id: int):
    complaint = complaint_get_for_member(member=member, complaint_id=complaint_id)
    if complaint is None:
        return render(request, "campaigns/feedback/not_found.html", status=404)
    thread = list(complaint.messages.all())
    answered = any(m.sender == ComplaintSender.STAFF for m in thread)
    form = None
    if complaint.status != ComplaintStatus.CLOSED:
        form = ComplaintReplyForm(
            request.POST if request.method == "POST" else None, answered=answered
        )
        if form.is_valid():
            try:
                complaint_customer_reply(
                    member=member,
                    complaint_id=complaint.pk,
                    body=form.cleaned_data["message"],
                )
            except NotFound:
                return render(request, "campaigns/feedback/not_found.html", status=404)
            except ServiceError as exc:
                form.add_service_error(exc)
            else:
                messages.success(
                    request,
                    _("Your answer is sent.")
                    if answered
                    else _("Thank you. We have added it to your message."),
                )
                return redirect("campaigns:complaint_detail", complaint.pk)
    return render(
        request,
        "campaigns/feedback/detail.html",
        {
            "complaint": complaint,
            "thread": thread,
            "answered": answered,
            "form": form,
        },
    )


@never_cache
@require_http_methods(["GET", "POST"])
def survey_answer(request, token: str):
    try:
        link = survey_link_read(token=token)
    except SurveyLinkExpired:
        return render(
            request,
            "campaigns/feedback/survey_link_error.html",
            {"expired": True},
            status=410,
        )
    except SurveyLinkInvalid:
        return render(
            request,
            "campaigns/feedback/survey_link_error.html",
            {"expired": False},
            status=400,
        )
    survey, member, purchase = link.survey, link.member, link.purchase
    context = {
        "survey": survey,
        "purchase": purchase,
        "question": survey.question,
    }
    if survey_response_get(survey=survey, member=member, purchase=purchase):
        return render(request, "campaigns/feedback/survey_thanks.html", context)
    form = SurveyAnswerForm(
        request.POST if request.method == "POST" else None, survey=survey
    )
    if form.is_valid():
        try:
            survey_response_submit(
                survey=survey,
                member=member,
                purchase=purchase,
                score=form.cleaned_data.get("score"),
                answers=form.answers(),
                comment=form.cleaned_data["comment"],
                campaign=link.campaign,
            )
        except Conflict:
            return render(request, "campaigns/feedback/survey_thanks.html", context)
        except ServiceError as exc:
            form.add_service_error(exc)
        else:
            return render(
                request,
                "campaigns/feedback/survey_thanks.html",
                {**context, "just_answered": True},
            )
    return render(request, "campaigns/feedback/survey.html", {**context, "form": form})
