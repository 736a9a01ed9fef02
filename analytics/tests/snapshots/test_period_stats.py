"""Keeping a period's member figures: the selectors only read them, the pages
and the nightly job keep them through analytics.services.period_stats."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from analytics.models import PeriodMemberStats
from analytics.selectors.member_figures import (
    ACTIVE_BY_STORE_KEY,
    active_by_store,
    period_member_figures,
)
from analytics.selectors.periods import Period, period_default
from analytics.services.period_stats import (
    active_by_store_keep,
    period_member_figures_keep,
)
from analytics.services.snapshots import snapshots_refresh_range
from analytics.tasks import snapshots_refresh_incremental as refresh_task

pytestmark = pytest.mark.django_db


@pytest.fixture
def refreshed(history):
    snapshots_refresh_range(day_from=history.m3, day_to=timezone.localdate())
    return history


def test_the_selectors_compute_without_keeping(refreshed):
    period = Period(refreshed.m1, refreshed.m1)
    assert period_member_figures(period, None)["members"]["cur"]["active"] == 2
    assert active_by_store(period)[None] == 2
    assert not PeriodMemberStats.objects.exists()


def test_the_keep_services_give_what_the_selectors_compute(refreshed):
    period = Period(refreshed.m1, refreshed.m1)
    for store_id in (None, refreshed.s1.pk, refreshed.s2.pk):
        computed = period_member_figures(period, store_id)
        assert period_member_figures_keep(period=period, store_id=store_id) == computed
        # The second time it is read back from the table, the same figures.
        assert period_member_figures_keep(period=period, store_id=store_id) == computed
    counted = active_by_store(period)
    assert active_by_store_keep(period=period) == counted
    assert active_by_store_keep(period=period) == counted
    assert PeriodMemberStats.objects.count() == 4


def test_a_dashboard_visit_keeps_the_period_for_the_next_visitor(
    client, manager, refreshed
):
    client.force_login(manager)
    params = {"from": f"{refreshed.m1:%Y-%m}", "to": f"{refreshed.m1:%Y-%m}"}
    url = reverse("admin:analytics_overview")
    with CaptureQueriesContext(connection) as first:
        response = client.get(url, params)
    cards = {c.key: c.value for c in response.context["cards"]}
    assert cards["active_members"] == 2
    assert set(PeriodMemberStats.objects.values_list("store_key", flat=True)) == {
        0,
        ACTIVE_BY_STORE_KEY,
    }
    with CaptureQueriesContext(connection) as second:
        again = client.get(url, params)
    assert {c.key: c.value for c in again.context["cards"]} == cards
    assert again.context["store_rows"] == response.context["store_rows"]
    assert len(second.captured_queries) < len(first.captured_queries)


def test_the_nightly_job_keeps_the_default_period_of_every_store(refreshed):
    refresh_task.delay()
    period = period_default()
    kept = PeriodMemberStats.objects.filter(first=period.first, last=period.last)
    assert set(kept.values_list("store_key", flat=True)) == {
        0,
        ACTIVE_BY_STORE_KEY,
        refreshed.s1.pk,
        refreshed.s2.pk,
    }
