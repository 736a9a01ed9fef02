"""The RFM page draws the customer-value holdout chart (actual against
predicted purchases) in Chromium, with whole-number ticks and no console
error, and shows the fitted parameters."""

from __future__ import annotations

import pytest
from django.urls import reverse

from analytics.services.clv import clv_model_refit
from analytics.tests.clv.test_refit import NOW, _history
from tests.browser._journey import admin_login, browser_watch

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_rfm_page_draws_the_holdout_chart(page, live_server, manager, store):
    _history(store, 120)
    fit = clv_model_refit(now=NOW, holdout_days=28)
    watch = browser_watch(page)
    admin_login(page, live_server.url, "manager")
    page.goto(live_server.url + reverse("admin:analytics_memberrfm_overview"))
    page.wait_for_function(
        "() => window.analyticsCharts && window.analyticsCharts['chart-clv-holdout']"
    )
    drawn = page.evaluate(
        "() => { const c = window.analyticsCharts['chart-clv-holdout'];"
        " return {sets: c.data.datasets.map(d => d.data),"
        " ticks: c.scales.y.ticks.map(t => t.value)}; }"
    )
    assert drawn["sets"][0] == [b["actual"] for b in fit.holdout["bins"]]
    assert all(float(v).is_integer() for v in drawn["ticks"])
    assert page.locator("#clv-parameters").is_visible()
    watch.assert_clean()
