"""The marketer's whole journey in one real Chromium, under the strict CSP.

Log in to the back office → build a segment in the row builder, preview its
count, save it → write a campaign for it and schedule it a few seconds ahead →
the dispatcher starts it once its time has come (tasks eager) → the campaign
page and its figures page show what was sent, with the chart drawn."""

from __future__ import annotations

import datetime as dt
import re
import time

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from campaigns.models import Campaign, CampaignStatus, Message, Segment
from campaigns.models.delivery import DeliverySettings
from campaigns.sending.services import campaigns_dispatch_due
from members.tests.factories import MemberFactory, StoreFactory
from rewards.models import PointsAccount
from rewards.tests.factories import TierFactory
from tests.browser._journey import admin_login, browser_watch

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_marketer_builds_a_segment_schedules_a_campaign_and_reads_its_figures(
    page, live_server, settings, marketer
):
    settings.SITE_URL = live_server.url
    page.set_default_timeout(10_000)
    watch = browser_watch(page)
    # Delivery's quiet hours are not this journey's subject: off, or the run
    # would be held back when the test runs at night in Kyiv.
    DeliverySettings.objects.update_or_create(
        pk=1, defaults={"quiet_start": dt.time(0), "quiet_end": dt.time(0)}
    )
    store = StoreFactory(code="mkt", name="Marketing Street")
    gold = TierFactory(name="Gold", rank=3)
    TierFactory(name="Silver", rank=2)
    golds = [
        MemberFactory(
            store=store,
            first_name=f"Gold{i}",
            email=f"gold{i}@example.com",
            email_consent=True,
            language="en",
        )
        for i in range(3)
    ]
    MemberFactory(store=store, first_name="Plain", email="plain@example.com")
    PointsAccount.objects.filter(member__in=golds).update(tier=gold)

    # 1. Log in to the back office.
    admin_login(page, live_server.url, "marketer")

    # 2. Build a segment with the row builder, preview it, save it.
    page.goto(live_server.url + reverse("admin:campaigns_segment_add"))
    page.get_by_role("radio", name="Conditions").check()
    expect(page.locator("#segment-builder")).to_be_visible()
    page.locator("#id_name").fill("Gold members")
    page.locator("#segment-row-0-field").select_option(label="Tier")
    page.locator("#segment-row-0-op").select_option(label="is")
    page.locator("#segment-row-0-value").select_option(label="Gold")
    page.locator("#segment-preview-button").click()
    expect(page.locator("#segment-preview-count")).to_have_text("3 members match.")
    expect(page.locator("#segment-preview-sample tbody tr")).to_have_count(3)
    page.locator("input[name=_save]").click()
    expect(page).to_have_url(re.compile(r"/admin/campaigns/segment/$"))
    expect(page.locator("ul.messagelist")).to_contain_text("Gold members")
    segment = Segment.objects.get(name="Gold members")
    assert segment.created_by == marketer

    # 3. Write a campaign for the segment, due a few seconds from now.
    due = timezone.localtime(timezone.now() + dt.timedelta(seconds=4)).replace(
        microsecond=0
    )
    page.goto(live_server.url + reverse("admin:campaigns_campaign_add"))
    page.locator("#id_name").fill("Gold weekend")
    page.locator("#id_segment").select_option(label="Gold members")
    page.locator("#id_channel").select_option("email")
    page.locator("#id_scheduled_at_0").fill(due.strftime("%Y-%m-%d"))
    page.locator("#id_scheduled_at_1").fill(due.strftime("%H:%M:%S"))
    # The texts have a tab per language (the default language open): the
    # marketer opens English, and its fields show instead.
    page.locator("#variants-group").get_by_role("tab", name="EN").first.click()
    expect(page.locator("#id_variants-0-subject_uk")).to_be_hidden()
    page.locator("#id_variants-0-subject_en").fill("Gold weekend, {{ first_name }}")
    page.locator("#id_variants-0-body_en").fill(
        "{{ first_name }}, double points this weekend."
    )
    page.locator("input[name=_continue]").click()
    expect(page.locator("ul.messagelist")).to_contain_text("was added successfully")
    campaign = Campaign.objects.get(name="Gold weekend")
    assert campaign.scheduled_at == due

    # 4. Schedule it.
    page.get_by_test_id("schedule").click()
    expect(page.locator("ul.messagelist")).to_contain_text("The campaign is scheduled.")
    expect(page.locator(".field-status")).to_contain_text("Scheduled")
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.SCHEDULED
    # Before its time the dispatcher leaves it alone.
    assert campaigns_dispatch_due(now=due - dt.timedelta(seconds=1)) == 0
    assert mail.outbox == []

    # 5. Its time comes; the dispatcher (the beat's job) starts it.
    time.sleep(max(0.0, (due - timezone.now()).total_seconds()) + 0.2)
    assert campaigns_dispatch_due() == 1
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.SENT
    assert sorted(m.to[0] for m in mail.outbox) == [
        "gold0@example.com",
        "gold1@example.com",
        "gold2@example.com",
    ]
    assert "Gold0, double points this weekend." in next(
        m.body for m in mail.outbox if m.to == ["gold0@example.com"]
    )
    assert Message.objects.filter(campaign=campaign, status="sent").count() == 3

    # 6. The campaign page shows the run; the figures page the counts and chart.
    page.reload()
    progress = page.locator("#campaign-progress")
    expect(progress.locator("[data-field=recipients]")).to_have_text("3")
    expect(progress.locator("[data-field=sent]")).to_have_text("3")
    page.get_by_role("link", name="Figures").click()
    expect(page).to_have_url(re.compile(r"/figures/$"))
    figures = page.get_by_test_id("figures")
    expect(figures.locator("tr", has_text="Members").first).to_contain_text("3")
    sent_row = figures.locator("tbody tr").nth(1)
    expect(sent_row.locator("th")).to_have_text("Sent")
    expect(sent_row.locator("td").nth(0)).to_have_text("3")  # variant A
    expect(sent_row.locator("td").nth(1)).to_have_text("3")  # all recipients
    # Chart.js drew on the canvas (it sets the canvas' size when it renders).
    expect(page.get_by_test_id("chart")).to_have_attribute(
        "style", re.compile("height")
    )
    box = page.get_by_test_id("chart").bounding_box()
    assert box and box["width"] > 0 and box["height"] > 0

    watch.assert_clean()
