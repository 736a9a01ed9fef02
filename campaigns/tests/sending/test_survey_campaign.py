"""A campaign that carries a survey: every recipient gets their own signed
link (`{{ survey_link }}`, the link every survey trigger sends), by email or
SMS; an answer through it is attributed to the campaign; a member who
answered the survey already is not sent the campaign; the text must place
the link; the preview shows a sample link that answers nothing; the admin
form offers the open surveys."""

from __future__ import annotations

import csv
import io
import re
from urllib.parse import urlsplit

import pytest
from django.core import mail
from django.urls import reverse

from analytics.selectors.surveys import survey_responses_by_campaign, survey_results
from campaigns.feedback.selectors import campaign_survey_figures
from campaigns.models import (
    CampaignChunk,
    Message,
    MessageStatus,
    SurveyInvitation,
    SurveyResponse,
    SurveyTrigger,
)
from campaigns.sending.chunks import campaign_chunk_send
from campaigns.sending.forms import CampaignForm
from campaigns.sending.rendering import campaign_render
from campaigns.sending.services import campaign_problems, campaign_send_now
from campaigns.tests.factories import (
    campaign_make,
    members_bulk,
    response_make,
    segment_of,
    survey_make,
)
from members.errors import InvalidInput

pytestmark = pytest.mark.django_db

LINK_RE = re.compile(r"https?://\S+/survey/[^/\s]+/")
BODY = "Hi {{ first_name }}, two minutes for us? {{ survey_link }}"


@pytest.fixture
def people():
    ann, bob, cat = members_bulk(3)
    bob.preferred_channel = "sms"
    bob.save(update_fields=["preferred_channel"])
    return ann, bob, cat


def _send(campaign):
    run = campaign_send_now(campaign=campaign)  # chunks queue on commit: not here
    for chunk in CampaignChunk.objects.filter(run=run):
        campaign_chunk_send(chunk_id=chunk.pk)
    return run


def _path(text: str) -> str:
    (link,) = LINK_RE.findall(text)
    return urlsplit(link).path


def test_each_recipient_gets_their_own_link_and_answers_count_for_the_campaign(
    client, people, sms_outbox
):
    ann, bob, cat = people
    survey = survey_make(name="Spring survey")
    response_make(survey=survey, member=cat, score=7)  # answered before
    campaign = campaign_make(
        segment=segment_of(people), survey=survey, channel="preferred", body_a=BODY
    )

    run = _send(campaign)

    # Cat answered already: she is not sent the campaign at all.
    assert run.recipients_total == 2
    assert not Message.objects.filter(campaign=campaign, member=cat).exists()
    assert [m.to for m in mail.outbox] == [[ann.email]]
    assert [m["to"] for m in sms_outbox] == [bob.phone]
    ann_path, bob_path = _path(mail.outbox[0].body), _path(sms_outbox[0]["text"])
    assert ann_path != bob_path
    assert mail.outbox[0].body.startswith(f"Hi {ann.first_name}, two minutes")
    assert set(
        SurveyInvitation.objects.filter(campaign=campaign).values_list(
            "member_id", "trigger"
        )
    ) == {(ann.pk, SurveyTrigger.CAMPAIGN), (bob.pk, SurveyTrigger.CAMPAIGN)}

    # Each link opens the survey for its own member, without logging in.
    page = client.get(ann_path)
    assert page.status_code == 200
    assert "How likely are you to recommend us?" in page.content.decode()
    assert client.post(ann_path, {"score": "9"}).status_code == 200
    assert client.post(bob_path, {"score": "4"}).status_code == 200
    answers = SurveyResponse.objects.filter(campaign=campaign)
    assert set(answers.values_list("member_id", "score")) == {(ann.pk, 9), (bob.pk, 4)}

    # A second answer through the same link is thanked, not recorded.
    again = client.post(ann_path, {"score": "0"})
    assert again.status_code == 200
    assert SurveyResponse.objects.get(campaign=campaign, member=ann).score == 9

    figures = campaign_survey_figures(campaign=campaign)
    assert (figures.invited, figures.answered, figures.share) == (2, 2, 100.0)
    assert survey_results(survey=survey)[0] == 3
    assert survey_results(survey=survey, campaign=campaign)[0] == 2
    assert survey_responses_by_campaign(survey=survey) == [
        {"campaign_id": campaign.pk, "campaign__name": campaign.name, "responses": 2}
    ]


def test_a_campaign_sent_again_skips_who_answered_through_it(client, people):
    ann, bob, _cat = people
    survey = survey_make()
    segment = segment_of([ann, bob])
    first = campaign_make(segment=segment, survey=survey, body_a=BODY)
    _send(first)
    ann_path = _path(next(m.body for m in mail.outbox if m.to == [ann.email]))
    client.post(ann_path, {"score": "10"})

    mail.outbox.clear()
    second = campaign_make(name="Reminder", segment=segment, survey=survey, body_a=BODY)
    run = _send(second)
    assert run.recipients_total == 1
    assert [m.to for m in mail.outbox] == [[bob.email]]
    # Bob's invitation stays the first campaign's: one per member and survey.
    assert SurveyInvitation.objects.get(member=bob).campaign == first


def test_the_text_must_place_the_link_and_the_link_needs_a_survey(people):
    survey = survey_make()
    without_link = campaign_make(segment=segment_of(people), survey=survey)
    assert (
        "Put {{ survey_link }} in the text of every language, where each member's "
        "own survey link goes." in campaign_problems(without_link)
    )
    with pytest.raises(InvalidInput, match=r"Put \{\{ survey_link \}\}"):
        campaign_send_now(campaign=without_link)

    no_survey = campaign_make(segment=segment_of(people), body_a=BODY)
    assert campaign_problems(no_survey) == [
        "Choose the survey that {{ survey_link }} leads to."
    ]

    survey.active = False
    survey.save(update_fields=["active"])
    closed = campaign_make(segment=segment_of(people), survey=survey, body_a=BODY)
    assert campaign_problems(closed) == [
        "The campaign's survey is closed; choose an open one."
    ]


def test_preview_shows_a_sample_link_that_answers_nothing(client, people):
    ann = people[0]
    campaign = campaign_make(
        segment=segment_of(people), survey=survey_make(), body_a=BODY
    )
    _lang, _subject, body = campaign_render(
        campaign=campaign, variant=campaign.variants.get(), member=ann
    )
    assert client.get(_path(body)).status_code == 400
    assert not SurveyResponse.objects.exists()


def test_a_message_without_a_survey_renders_no_link(people):
    campaign = campaign_make(segment=segment_of(people[:1]))
    _send(campaign)
    assert not SurveyInvitation.objects.exists()
    assert Message.objects.get(campaign=campaign).status == MessageStatus.SENT


def test_admin_form_offers_only_open_surveys(admin_client, people):
    open_survey = survey_make(name="Open one")
    survey_make(name="Closed one", active=False)
    page = admin_client.get(reverse("admin:campaigns_campaign_add"))
    html = page.content.decode()
    assert 'name="survey"' in html
    assert "Open one" in html and "Closed one" not in html
    assert "{{ survey_link }}" in html  # among the variables the text may use

    segment = segment_of(people)
    form = CampaignForm(
        data={
            "name": "Ask them",
            "segment": segment.pk,
            "channel": "email",
            "variant_b_percent": 0,
            "holdout_percent": 0,
            "window_days": 7,
            "bonus_points": 0,
            "survey": open_survey.pk,
        }
    )
    assert form.is_valid(), form.errors
    assert form.cleaned_data["survey"] == open_survey


def test_figures_and_results_pages_show_the_campaigns_answers(
    admin_client, client, people
):
    ann, bob, _cat = people
    survey = survey_make(name="Spring survey")
    campaign = campaign_make(
        name="Ask in spring", segment=segment_of([ann, bob]), survey=survey, body_a=BODY
    )
    _send(campaign)
    client.post(_path(mail.outbox[0].body), {"score": "10"})
    response_make(survey=survey, member=people[2], score=3)  # not through it

    figures = admin_client.get(
        reverse("admin:campaigns_campaign_figures", args=[campaign.pk])
    )
    assert figures.status_code == 200
    html = figures.content.decode()
    (line,) = re.findall(r'data-testid="campaign-survey">(.*?)</p>', html, re.S)
    assert " ".join(line.split()).startswith(
        "Survey “Spring survey”: sent to 2 members, answered by 1 through this "
        "campaign's links."
    ), line
    results_url = reverse("admin:analytics_survey_results", args=[survey.pk])
    assert f"{results_url}?campaign={campaign.pk}" in line

    only = admin_client.get(results_url, {"campaign": campaign.pk})
    assert only.status_code == 200
    assert only.context["responses"] == 1 and only.context["campaign"] == campaign
    assert "Only the answers given through the links of the campaign" in (
        only.content.decode()
    )
    export = admin_client.get(
        reverse("admin:analytics_survey_answers_csv", args=[survey.pk])
    )
    rows = list(csv.reader(io.StringIO(export.content.decode("utf-8-sig"))))
    assert rows[0][-1] == "campaign"
    assert sorted(row[-1] for row in rows[1:]) == ["", "Ask in spring"]

    every = admin_client.get(results_url)
    assert every.context["responses"] == 2
    assert 'data-testid="survey-by-campaign"' in every.content.decode()

    other = campaign_make(name="No survey", segment=segment_of([ann]))
    for bad in ("abc", "9" * 30, str(other.pk), "-1"):
        page = admin_client.get(results_url, {"campaign": bad})
        assert page.status_code == 200
        assert page.context["errors"] == [
            "“campaign”: choose one of the campaigns that sent this survey."
        ]
        assert page.context["responses"] == 2
