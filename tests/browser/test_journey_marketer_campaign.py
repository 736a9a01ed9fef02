"""A marketer writes a campaign in admin, previews it with a member's data, sends
it now (chunks run on commit, tasks eager) and reads the figures chart."""

import re
from pathlib import Path

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from campaigns.models import Campaign, CampaignStatus, Message
from campaigns.tests.factories import members_bulk, segment_all
from tests.browser._journey import admin_login

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-results"


@pytest.fixture
def shot_on_failure(page, request):
    failed_before = request.session.testsfailed
    yield page
    if request.session.testsfailed > failed_before:
        SCREENSHOTS.mkdir(exist_ok=True)
        page.screenshot(path=SCREENSHOTS / f"{request.node.name}.png", full_page=True)


def test_marketer_writes_previews_sends_and_reads_the_figures(
    shot_on_failure, live_server, marketer
):
    page = shot_on_failure
    page.set_default_timeout(10_000)
    members = members_bulk(6)
    segment_all("Everyone")

    admin_login(page, live_server.url, "marketer")

    page.goto(live_server.url + reverse("admin:campaigns_campaign_add"))
    page.locator("#id_name").fill("Browser campaign")
    page.locator("#id_segment").select_option(label="Everyone")
    page.locator("#id_channel").select_option("email")
    page.locator("#id_holdout_percent").fill("20")
    # The texts have a tab per language (the default language open): the
    # marketer opens English, and its fields show instead.
    page.locator("#variants-group").get_by_role("tab", name="EN").first.click()
    expect(page.locator("#id_variants-0-subject_uk")).to_be_hidden()
    page.locator("#id_variants-0-subject_en").fill("Hello {{ first_name }}")
    page.locator("#id_variants-0-body_en").fill(
        "You have {{ balance }} points, {{ first_name }}."
    )
    page.locator("input[name=_continue]").click()
    expect(page.locator("ul.messagelist")).to_contain_text("was added successfully")

    page.get_by_role("link", name="Preview and test send").click()
    page.locator("#id_member").fill(members[0].card_number)
    page.get_by_test_id("preview").click()
    expect(page.get_by_test_id("rendered")).to_contain_text(
        f"You have 0 points, {members[0].first_name}."
    )

    page.get_by_role("link", name="Back to the campaign").click()
    page.get_by_test_id("send-now").click()
    expect(page.locator("ul.messagelist")).to_contain_text("being sent")
    campaign = Campaign.objects.get(name="Browser campaign")
    assert campaign.status == CampaignStatus.SENT
    assert Message.objects.filter(campaign=campaign).count() > 0

    page.get_by_role("link", name="Figures").click()
    expect(page).to_have_url(re.compile(r"/figures/$"))
    expect(page.get_by_test_id("figures")).to_contain_text("Holdout")
    # Chart.js drew on the canvas (it sets the canvas' size when it renders).
    expect(page.get_by_test_id("chart")).to_have_attribute(
        "style", re.compile("height")
    )
