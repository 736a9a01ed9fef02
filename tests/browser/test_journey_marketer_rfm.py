"""A marketer opens the RFM page: the chart draws (its script is a static file,
so the CSP lets it run), and one click makes a campaign segment."""

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from analytics.services.rfm import rfm_refresh
from analytics.tests.recs_data import Line, members_make, purchases_make
from campaigns.models import Segment
from tests.browser._journey import admin_login

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-results"


def test_marketer_sees_the_chart_and_makes_a_segment(
    page, live_server, marketer, store
):
    now = timezone.now()
    members = members_make(6, store)
    purchases_make(
        store,
        [
            (m, now - dt.timedelta(days=10 * i + 1), Decimal(30 + i), [Line("A")], None)
            for i, m in enumerate(members)
        ],
    )
    rfm_refresh(now=now)
    errors = []
    page.on("console", lambda msg: msg.type == "error" and errors.append(msg.text))
    page.set_default_timeout(5_000)
    try:
        admin_login(page, live_server.url, "marketer")
        page.goto(live_server.url + reverse("admin:analytics_memberrfm_overview"))
        expect(page.locator("#rfm-table")).to_be_visible()
        # Chart.js sizes the canvas and marks it when it has drawn.
        page.wait_for_function(
            "() => window.Chart && Chart.getChart(document.getElementById('rfm-chart'))"
        )
        # (the browser's favicon request is a 404 here; that is not ours)
        assert [e for e in errors if "Failed to load resource" not in e] == []
        page.locator("#rfm-table input[type=submit]").first.click()
        expect(page.locator(".messagelist")).to_contain_text("Campaign segment")
        assert Segment.objects.count() == 1
    except Exception:
        SCREENSHOTS.mkdir(exist_ok=True)
        page.screenshot(path=SCREENSHOTS / "rfm_page.png", full_page=True)
        raise
