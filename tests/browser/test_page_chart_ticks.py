"""Charts of counts draw whole-number ticks: with one complaint per topic the
churn chart read 0, 0.1, 0.2 ... 1. Every chart on every analytics page whose
spec says "count", and the RFM page's members axis, in Chromium."""

from __future__ import annotations

import pytest
from django.urls import reverse

from analytics.services.rfm import rfm_refresh
from analytics.tests.dashboards.test_churn_reasons import churn  # noqa: F401
from tests.browser._journey import admin_login, browser_watch

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

PAGES = [
    "admin:analytics_overview",
    "admin:analytics_program",
    "admin:analytics_cohorts",
    "admin:analytics_churn",
]
# Every drawn chart on the page: its spec's unit and the y axis tick values.
CHART_TICKS = """() => Array.from(document.querySelectorAll("canvas[data-chart]"))
  .map(canvas => {
    const spec = JSON.parse(document.getElementById(canvas.dataset.chart).textContent);
    const chart = window.analyticsCharts[canvas.id];
    return {id: canvas.id, unit: spec.unit, ticks: chart.scales.y.ticks.map(t => t.value)};
  })"""


def test_count_axes_have_whole_number_ticks(page, live_server, manager, churn):  # noqa: F811
    rfm_refresh()
    watch = browser_watch(page)
    admin_login(page, live_server.url, "manager")
    query = f"?from={churn['m1']:%Y-%m}&to={churn['m1']:%Y-%m}"
    counted = {}
    for name in PAGES:
        page.goto(live_server.url + reverse(name) + query)
        page.wait_for_function(
            "() => window.analyticsCharts && document.querySelectorAll("
            "'canvas[data-chart]').length === Object.keys(window.analyticsCharts).length"
        )
        for chart in page.evaluate(CHART_TICKS):
            if chart["unit"] == "count":
                assert len(chart["ticks"]) >= 2, chart
                assert all(float(v).is_integer() for v in chart["ticks"]), chart
                counted[chart["id"]] = max(chart["ticks"])
    # The small counts where Chart.js would pick tenths were among them.
    assert counted["chart-topics"] == 1
    assert {"chart-activity", "chart-points", "chart-liability"} <= set(counted)

    page.goto(live_server.url + reverse("admin:analytics_memberrfm_overview"))
    page.wait_for_function(
        "() => window.Chart && Chart.getChart(document.getElementById('rfm-chart'))"
    )
    ticks = page.evaluate(
        "() => Chart.getChart(document.getElementById('rfm-chart'))"
        ".scales.members.ticks.map(t => t.value)"
    )
    assert len(ticks) >= 2 and max(ticks) <= 3  # three scored members
    assert all(float(v).is_integer() for v in ticks), ticks
    watch.assert_clean()
