"""A Manager opens the analytics dashboards: the charts are drawn by Chart.js
(under the strict CSP), the cohort heat map is there, and a table downloads as
CSV with the right header row."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from decimal import Decimal
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from analytics.services.snapshots import snapshots_refresh_range
from members.tests.factories import MemberFactory
from rewards.services import purchase_record
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


def _history(store) -> None:
    now = timezone.now()
    for n in range(4):
        member = MemberFactory(store=store, enrolled_at=now - dt.timedelta(days=70))
        for k in range(n + 1):
            when = now - dt.timedelta(days=60 - 15 * k)
            purchase_record(
                store=store,
                member=member,
                receipt_id=f"B{n}-{k}",
                total=Decimal("120") + n,
                occurred_at=when,
                recorded_at=when,
            )
    snapshots_refresh_range(
        day_from=(now - dt.timedelta(days=90)).date(), day_to=timezone.localdate()
    )


def test_manager_sees_charts_and_downloads_csv(
    shot_on_failure, live_server, manager, store
):
    page = shot_on_failure
    page.set_default_timeout(10_000)
    csp_errors: list[str] = []
    page.on(
        "console",
        lambda msg: (
            csp_errors.append(msg.text)
            if "Content Security Policy" in msg.text
            else None
        ),
    )
    _history(store)

    admin_login(page, live_server.url, "manager")
    page.get_by_role("link", name="Open the dashboards").click()
    expect(page).to_have_url(re.compile(r"/admin/analytics/dashboard/"))
    expect(page.locator("[data-metric=active_members] .kpi-value")).to_have_text("4")

    for canvas in ("chart-sales", "chart-activity"):
        page.wait_for_function(
            "id => window.analyticsCharts && window.analyticsCharts[id]", arg=canvas
        )
        box = page.locator(f"#{canvas}").bounding_box()
        assert box and box["width"] > 0 and box["height"] > 0
        points = page.evaluate(
            "id => window.analyticsCharts[id].data.datasets[0].data.length", canvas
        )
        assert points > 0

    with page.expect_download() as info:
        page.get_by_test_id("csv-stores").click()
    download = info.value
    assert download.suggested_filename.startswith("analytics-stores-")
    text = Path(download.path()).read_text(encoding="utf-8-sig")
    header = next(csv.reader(io.StringIO(text)))
    assert header == [
        "Store",
        "Purchases",
        "Sales",
        "Average order value",
        "New members",
        "Active members",
        "Participation, %",
    ]

    page.get_by_test_id("nav-program").click()
    page.wait_for_function(
        "() => window.analyticsCharts && window.analyticsCharts['chart-points']"
    )
    page.get_by_test_id("nav-cohorts").click()
    expect(page.locator("#table-cohorts td.heat-10").first).to_be_visible()
    page.wait_for_function(
        "() => window.analyticsCharts && window.analyticsCharts['chart-curve']"
    )
    assert csp_errors == []
