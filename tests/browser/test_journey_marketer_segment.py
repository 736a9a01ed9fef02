"""A marketer builds a segment with the row builder, previews it, saves it."""

import json
import re

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from campaigns.models import Segment
from members.tests.factories import MemberFactory, StoreFactory
from rewards.models import PointsAccount
from rewards.tests.factories import TierFactory
from tests.browser._journey import admin_login

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_marketer_picks_tier_gold_previews_and_saves(page, live_server, marketer):
    page.set_default_timeout(5_000)
    store = StoreFactory(code="seg", name="Segment Street")
    gold = TierFactory(name="Gold", rank=3)
    TierFactory(name="Silver", rank=2)
    golds = [MemberFactory(store=store, first_name=f"Gold{i}") for i in range(2)]
    MemberFactory(store=store, first_name="Plain")
    PointsAccount.objects.filter(member__in=golds).update(tier=gold)
    violations: list[str] = []
    page.on(
        "console",
        lambda msg: (
            violations.append(msg.text)
            if "Content Security Policy" in msg.text
            else None
        ),
    )

    admin_login(page, live_server.url, "marketer")
    page.goto(live_server.url + reverse("admin:campaigns_segment_add"))

    # The kind switch shows the upload for a list and the builder for rules.
    expect(page.locator("#id_file")).to_be_hidden()
    page.get_by_role("radio", name="Uploaded list").check()
    expect(page.locator("#id_file")).to_be_visible()
    expect(page.locator("#segment-builder")).to_be_hidden()
    page.get_by_role("radio", name="Conditions").check()
    expect(page.locator("#segment-builder")).to_be_visible()

    page.locator("#id_name").fill("Gold members")
    page.locator("#segment-row-0-field").select_option(label="Tier")
    page.locator("#segment-row-0-op").select_option(label="is")
    page.locator("#segment-row-0-value").select_option(label="Gold")
    page.locator("#segment-preview-button").click()
    expect(page.locator("#segment-preview-count")).to_have_text("2 members match.")
    expect(page.locator("#segment-preview-sample tbody tr")).to_have_count(2)
    assert page.url.endswith(reverse("admin:campaigns_segment_add"))  # not submitted

    # A second row joined with OR, then removed again.
    page.locator("#segment-add-row").click()
    page.locator("#segment-row-1-field").select_option(label="Tier")
    page.locator("#segment-row-1-op").select_option(label="has no tier")
    page.locator("#segment-join").select_option("or")
    page.locator("#segment-preview-button").click()
    expect(page.locator("#segment-preview-count")).to_have_text("3 members match.")
    page.locator("#segment-row-1-remove").click()

    page.locator("input[name=_save]").click()
    expect(page).to_have_url(re.compile(r"/admin/campaigns/segment/$"))
    segment = Segment.objects.get(name="Gold members")
    assert segment.definition == {
        "op": "or",
        "conditions": [{"field": "tier", "op": "is", "value": [gold.pk]}],
    }
    assert segment.created_by == marketer

    # The saved segment opens with its row rebuilt from the JSON.
    page.goto(
        live_server.url + reverse("admin:campaigns_segment_change", args=[segment.pk])
    )
    expect(page.locator("#segment-row-0-field")).to_have_value("tier")
    expect(page.locator("#segment-row-0-value")).to_have_value(str(gold.pk))
    assert json.loads(page.locator("#id_definition").input_value())["op"] == "or"
    assert violations == []
