"""`{% survey_prompt member %}`: the "Tell us how we did" card about the member's
latest unanswered purchase, for any portal page (the dashboard shows it)."""

from django import template
from django.urls import reverse

from campaigns.feedback.selectors import survey_link_token, survey_prompt_for_member

register = template.Library()


def survey_prompt_context(member) -> dict:
    prompt = survey_prompt_for_member(member=member) if member is not None else None
    if prompt is None:
        return {"prompt": None, "survey_url": None}
    survey, purchase = prompt
    token = survey_link_token(survey=survey, member=member, purchase=purchase)
    return {
        "prompt": prompt,
        "survey_url": reverse("campaigns:survey_answer", args=[token]),
    }


@register.inclusion_tag("campaigns/feedback/_survey_prompt.html")
def survey_prompt(member):
    return survey_prompt_context(member)
