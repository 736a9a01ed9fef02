"""The dashboards' chart specs: every chart says what its axis measures, and a
count series holds whole numbers (the script then draws whole-number ticks;
tests/browser/test_chart_ticks.py checks that in Chromium)."""

import pytest
from django.urls import reverse

from analytics.admin.charts import ChartUnit, chart_spec
from analytics.tests.dashboards.test_churn_reasons import churn  # noqa: F401

pytestmark = pytest.mark.django_db

PAGES = [
    "admin:analytics_overview",
    "admin:analytics_program",
    "admin:analytics_cohorts",
    "admin:analytics_demographics",
    "admin:analytics_churn",
]


def test_a_count_chart_refuses_fractions():
    with pytest.raises(ValueError, match="'Complaints' holds 0.5"):
        chart_spec(
            kind="bar",
            labels=["a", "b"],
            datasets=[("Complaints", [1, 0.5])],
            unit=ChartUnit.COUNT,
        )


def test_a_spec_carries_its_unit_and_gaps():
    spec = chart_spec(
        kind="line",
        labels=["M0", "M1"],
        datasets=[("Bought", [100.0, None])],
        unit=ChartUnit.PERCENT,
    )
    assert spec == {
        "type": "line",
        "unit": "percent",
        "labels": ["M0", "M1"],
        "datasets": [{"label": "Bought", "data": [100.0, None]}],
    }
    assert chart_spec(
        kind="bar", labels=["x"], datasets=[("n", [None, 3])], unit="count"
    )["unit"] == ("count")


@pytest.mark.parametrize("page", PAGES)
def test_every_dashboard_chart_declares_its_unit(client, manager, churn, page):  # noqa: F811
    client.force_login(manager)
    params = {"from": f"{churn['m1']:%Y-%m}", "to": f"{churn['m1']:%Y-%m}"}
    response = client.get(reverse(page), params)
    assert response.status_code == 200
    charts = response.context["charts"]
    assert charts
    for name, spec in charts.items():
        assert spec["unit"] in set(ChartUnit), name
        if spec["unit"] == ChartUnit.COUNT:
            for dataset in spec["datasets"]:
                assert all(v is None or type(v) is int for v in dataset["data"]), (
                    name,
                    dataset["label"],
                )


def test_the_churn_chart_counts_complaints(client, manager, churn):  # noqa: F811
    client.force_login(manager)
    params = {"from": f"{churn['m1']:%Y-%m}", "to": f"{churn['m1']:%Y-%m}"}
    spec = client.get(reverse("admin:analytics_churn"), params).context["charts"][
        "topics"
    ]
    assert spec["unit"] == "count"
    assert spec["datasets"][0]["data"] == [1, 1]
