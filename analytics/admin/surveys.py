"""The survey pages of the back office: every survey with its number of
answers, and one survey's results question by question (a bar chart per
score or choice question, the NPS split of an NPS question, the newest free
texts), the rewards wished for next to those redeemed, and all answers as CSV.
The results page may show only the answers given through one campaign's links
(?campaign=<id>), and lists the campaigns that carried the survey.

URLs (admin namespace): analytics_surveys, analytics_survey_results,
analytics_survey_answers_csv. Same right as the dashboards."""

from __future__ import annotations

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.http import Http404
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.translation import gettext

from analytics.admin.charts import ChartUnit, chart_spec
from analytics.selectors.surveys import (
    WISH_DAYS,
    survey_answers_csv_rows,
    survey_responses_by_campaign,
    survey_results,
    survey_wishes_vs_redemptions,
)
from campaigns.models import Campaign, Survey
from members.csvexport import csv_response


def survey_urls(site) -> list:
    """Mounted with the dashboards (analytics.admin.dashboards.analytics_urls)."""
    return [
        path(
            "analytics/surveys/",
            site.admin_view(surveys_view),
            name="analytics_surveys",
        ),
        path(
            "analytics/surveys/<int:survey_id>/",
            site.admin_view(survey_results_view),
            name="analytics_survey_results",
        ),
        path(
            "analytics/surveys/<int:survey_id>/answers.csv",
            site.admin_view(survey_answers_csv_view),
            name="analytics_survey_answers_csv",
        ),
    ]


# The dashboards' right (analytics.admin.dashboards.DASHBOARD_PERMISSION, which
# imports this module for the URLs).
SURVEYS_PERMISSION = "analytics.view_dashboard"


def _allowed(request) -> None:
    user = request.user
    if not (user.is_active and user.is_staff and user.has_perm(SURVEYS_PERMISSION)):
        raise PermissionDenied


def _survey(survey_id: int) -> Survey:
    survey = Survey.objects.filter(pk=survey_id).first()
    if survey is None:
        raise Http404
    return survey


def surveys_view(request):
    _allowed(request)
    surveys = Survey.objects.annotate(
        answers=Count("responses", distinct=True),
        asked=Count("questions", distinct=True),
    ).order_by("-active", "name")
    return TemplateResponse(
        request,
        "admin/analytics/surveys.html",
        {
            **admin.site.each_context(request),
            "title": gettext("Analytics: surveys"),
            "surveys": surveys,
        },
    )


def survey_results_view(request, survey_id: int):
    _allowed(request)
    survey = _survey(survey_id)
    campaign, errors = _campaign_from_params(survey, request.GET)
    responses, results = survey_results(survey=survey, campaign=campaign)
    charts = {}
    for r in results:
        if r.rows:
            charts[f"chart-data-q{r.question.pk}"] = chart_spec(
                kind="bar",
                labels=[row.label for row in r.rows],
                datasets=[(gettext("Answers"), [row.count for row in r.rows])],
                unit=ChartUnit.COUNT,
            )
    wishes = survey_wishes_vs_redemptions(survey=survey)
    if wishes:
        charts["chart-data-wishes"] = chart_spec(
            kind="bar",
            labels=[w.reward for w in wishes],
            datasets=[
                (gettext("Wished (members)"), [w.wished for w in wishes]),
                (gettext("Redeemed (vouchers)"), [w.redeemed for w in wishes]),
            ],
            unit=ChartUnit.COUNT,
        )
    return TemplateResponse(
        request,
        "admin/analytics/survey_results.html",
        {
            **admin.site.each_context(request),
            "title": gettext("Survey results: %(name)s") % {"name": survey.name},
            "survey": survey,
            "responses": responses,
            "results": results,
            "charts": charts,
            "wishes": wishes,
            "wish_days": WISH_DAYS,
            "campaign": campaign,
            "by_campaign": survey_responses_by_campaign(survey=survey),
            "errors": errors,
        },
    )


def _campaign_from_params(survey, params) -> tuple[Campaign | None, list[str]]:
    """(campaign or None, errors) from ?campaign=<id>: one of the campaigns
    that carried this survey; anything else is ignored with a message."""
    raw = (params.get("campaign") or "").strip()
    if not raw:
        return None, []
    number = raw.isascii() and raw.isdigit() and len(raw) <= 18
    found = (
        Campaign.objects.filter(pk=int(raw), survey=survey).first() if number else None
    )
    if found is not None:
        return found, []
    return None, [
        gettext("“%(field)s”: choose one of the campaigns that sent this survey.")
        % {"field": "campaign"}
    ]


def survey_answers_csv_view(request, survey_id: int):
    _allowed(request)
    survey = _survey(survey_id)
    return csv_response(
        f"survey-{survey.pk}-answers.csv", survey_answers_csv_rows(survey=survey)
    )
