"""A campaign cannot be scheduled in the past: the service and the admin form
refuse it, "send now" sends at once."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from campaigns.models import Campaign, CampaignStatus
from campaigns.sending.services import campaign_schedule, campaign_send_now
from campaigns.tests.factories import campaign_make, segment_all
from campaigns.tests.sending.test_admin import _form
from members.errors import InvalidInput

pytestmark = pytest.mark.django_db

PAST = r"^This time is in the past; choose a later time, or use “Send now”"


def _url(view: str, *args) -> str:
    return reverse(f"admin:campaigns_campaign_{view}", args=args)


@pytest.fixture
def mk_client(client, marketer):
    client.force_login(marketer)
    return client


def _when(at: dt.datetime) -> dict:
    local = timezone.localtime(at)
    return {
        "scheduled_at_0": local.strftime("%Y-%m-%d"),
        "scheduled_at_1": local.strftime("%H:%M:%S"),
    }


# --- the service ------------------------------------------------------------------------


def test_schedule_refuses_a_time_in_the_past_naming_the_field():
    campaign = campaign_make()
    with pytest.raises(InvalidInput, match=PAST) as exc:
        campaign_schedule(
            campaign=campaign, at=timezone.now() - dt.timedelta(minutes=2)
        )
    assert exc.value.field == "scheduled_at"
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.DRAFT
    assert campaign.scheduled_at is None


def test_schedule_allows_a_time_just_gone_and_the_future():
    campaign = campaign_make()
    just_gone = timezone.now() - dt.timedelta(seconds=30)
    assert campaign_schedule(campaign=campaign, at=just_gone).scheduled_at == just_gone
    later = timezone.now() + dt.timedelta(days=1)
    campaign = campaign_schedule(campaign=campaign, at=later)
    assert (campaign.status, campaign.scheduled_at) == (CampaignStatus.SCHEDULED, later)


def test_send_now_still_sends_a_campaign_whose_date_went_by(
    django_capture_on_commit_callbacks,
):
    campaign = campaign_make(scheduled_at=timezone.now() - dt.timedelta(days=2))
    with django_capture_on_commit_callbacks(execute=True):
        campaign_send_now(campaign=campaign)
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.SENT


# --- the admin form ---------------------------------------------------------------------


def test_admin_form_refuses_a_past_time_with_a_field_error(mk_client):
    segment = segment_all()
    data = _form(segment, **_when(timezone.now() - dt.timedelta(hours=3)))
    response = mk_client.post(_url("add"), data)
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert list(errors) == ["scheduled_at"]
    assert errors["scheduled_at"][0].startswith("This time is in the past")
    assert not Campaign.objects.exists()


def test_admin_form_accepts_a_future_time(mk_client):
    segment = segment_all()
    at = (timezone.now() + dt.timedelta(days=1)).replace(microsecond=0)
    response = mk_client.post(_url("add"), _form(segment, **_when(at)))
    assert response.status_code == 302
    assert Campaign.objects.get().scheduled_at == at


def test_admin_form_leaves_an_untouched_time_that_just_went_by(mk_client):
    """A scheduled campaign due a minute ago (the dispatcher has not picked it up
    yet) can still be renamed: only a newly typed time is checked."""
    segment = segment_all()
    at = (timezone.now() - dt.timedelta(minutes=3)).replace(microsecond=0)
    campaign = campaign_make(segment=segment, scheduled_at=at)
    variant = campaign.variants.get()
    data = _form(
        segment,
        name="Renamed",
        **_when(at),
        **{
            "variants-INITIAL_FORMS": "1",
            "variants-0-id": str(variant.pk),
            "variants-0-campaign": str(campaign.pk),
        },
    )
    response = mk_client.post(_url("change", campaign.pk), data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    campaign.refresh_from_db()
    assert campaign.name == "Renamed"


def test_admin_schedule_button_of_a_past_time_says_why(mk_client):
    campaign = campaign_make(scheduled_at=timezone.now() - dt.timedelta(hours=1))
    response = mk_client.post(_url("schedule", campaign.pk), follow=True)
    assert "This time is in the past" in response.content.decode()
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.DRAFT
