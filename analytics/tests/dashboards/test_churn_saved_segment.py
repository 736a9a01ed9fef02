"""The churn reasons page filtered by a saved segment (campaigns' Segment): the
asked reasons, the inferred ones and the share who answered all narrow to the
segment's members; a bad segment id is a message on the page and a 400 for
the CSV, never a 500.

On top of test_churn_asked's `asked` (churned in M1: lost, who answered
"price" and complained about service and points, and happy, who said
nothing; loyal, still buying, answered "service"):

    "Lost list"     lost                 (static)
    "Others list"   happy, loyal         (static)
    "Lapsed"        no purchase for 60 days or more: lost, happy  (conditions)
"""

import csv
import io
from decimal import Decimal

import pytest
from django.urls import reverse

from analytics.selectors.churn_asked import churn_answered_share, churn_asked_reasons
from analytics.selectors.churn_reasons import churn_complaint_topics, churn_low_comments
from analytics.tests.dashboards.test_churn_asked import asked  # noqa: F401
from analytics.tests.dashboards.test_churn_reasons import churn  # noqa: F401
from campaigns.models import Segment, SegmentKind
from campaigns.tests.factories import segment_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def saved(asked):  # noqa: F811
    return {
        "lost": segment_of([asked["lost"]], name="Lost list"),
        "others": segment_of([asked["happy"], asked["loyal"]], name="Others list"),
        "rules": Segment.objects.create(
            name="Lapsed",
            kind=SegmentKind.RULES,
            definition={
                "op": "and",
                "conditions": [{"field": "last_purchase", "op": "gte", "value": 60}],
            },
        ),
    }


@pytest.fixture
def manager_client(client, manager):
    client.force_login(manager)
    return client


def _params(asked, **more):  # noqa: F811
    return {"from": f"{asked['m1']:%Y-%m}", "to": f"{asked['m1']:%Y-%m}", **more}


def _asked(period, saved_segment):
    return [
        (r["code"], r["answers"])
        for r in churn_asked_reasons(period, saved=saved_segment)
    ]


def _topics(period, saved_segment):
    return [t["topic"] for t in churn_complaint_topics(period, saved=saved_segment)]


def test_saved_segment_narrows_asked_inferred_and_the_answered_share(
    asked,  # noqa: F811
    saved,
):
    period = asked["period"]
    # Unfiltered, as test_churn_asked has it.
    assert _asked(period, None) == [("price", 2), ("service", 1)]
    assert _topics(period, None) == ["points", "service"]
    assert churn_answered_share(period)["churned"] == 2

    assert _asked(period, saved["lost"]) == [("price", 1)]
    assert _topics(period, saved["lost"]) == ["points", "service"]
    assert churn_answered_share(period, saved=saved["lost"]) == {
        "churned": 1,
        "answered": 1,
        "share": Decimal("100.0"),
    }
    assert [r.comment for r in churn_low_comments(period, saved=saved["lost"])] == [
        "Rude staff"
    ]

    assert _asked(period, saved["others"]) == [("service", 1)]
    assert _topics(period, saved["others"]) == []
    assert churn_answered_share(period, saved=saved["others"]) == {
        "churned": 1,
        "answered": 0,
        "share": Decimal("0.0"),
    }
    assert churn_low_comments(period, saved=saved["others"]) == []


def test_a_segment_of_conditions_filters_too(asked, saved):  # noqa: F811
    period = asked["period"]
    assert _asked(period, saved["rules"]) == [("price", 1)]
    assert _topics(period, saved["rules"]) == ["points", "service"]
    assert churn_answered_share(period, saved=saved["rules"]) == {
        "churned": 2,
        "answered": 1,
        "share": Decimal("50.0"),
    }


def test_saved_and_rfm_segment_filters_combine(asked, saved):  # noqa: F811
    period = asked["period"]
    # loyal is the only "champions" member, and not in "Lost list".
    assert churn_asked_reasons(period, segment="champions", saved=saved["lost"]) == []
    assert [
        r["code"]
        for r in churn_asked_reasons(period, segment="champions", saved=saved["others"])
    ] == ["service"]


def test_page_filters_by_saved_segment_and_its_csv_links_carry_it(
    manager_client,
    asked,  # noqa: F811
    saved,
):
    lost = saved["lost"]
    response = manager_client.get(
        reverse("admin:analytics_churn"), _params(asked, saved_segment=lost.pk)
    )
    assert response.status_code == 200
    assert response.context["errors"] == []
    assert [(r["code"], r["answers"]) for r in response.context["asked_rows"]] == [
        ("price", 1)
    ]
    assert [t["topic"] for t in response.context["topic_rows"]] == [
        "points",
        "service",
    ]
    html = response.content.decode()
    assert "1 of 1 churned members answered the leaving question (100%)" in html
    assert f'<option value="{lost.pk}" selected>Lost list</option>' in html
    for table in ("churn_asked", "churn_reasons"):
        assert f"saved_segment={lost.pk}" in response.context["csv"][table]

    export = manager_client.get(
        reverse("admin:analytics_export", args=["churn_asked"]),
        _params(asked, saved_segment=saved["others"].pk),
    )
    assert export.status_code == 200
    assert f"segment{saved['others'].pk}" in export["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(export.content.decode("utf-8-sig"))))
    assert [r[:2] for r in rows[1:]] == [["Service", "1"]]


@pytest.mark.parametrize(
    "bad", ["999999", "abc", "1.5", "²", "9" * 30, "-1", "1 OR 1=1"]
)
def test_a_bad_saved_segment_is_a_clear_message_not_a_500(
    manager_client,
    asked,  # noqa: F811
    saved,
    bad,
):
    response = manager_client.get(
        reverse("admin:analytics_churn"), _params(asked, saved_segment=bad)
    )
    assert response.status_code == 200
    assert response.context["errors"] == [
        "“saved_segment”: choose a saved segment from the list."
    ]
    assert len(response.context["asked_rows"]) == 2  # ignored, not applied
    export = manager_client.get(
        reverse("admin:analytics_export", args=["churn_asked"]),
        _params(asked, saved_segment=bad),
    )
    assert export.status_code == 400
    assert "saved_segment" in export.content.decode()


def test_a_saved_segment_whose_conditions_no_longer_read_is_a_message(
    manager_client,
    asked,  # noqa: F811
):
    broken = Segment.objects.create(
        name="Broken",
        kind=SegmentKind.RULES,
        definition={"op": "and", "conditions": [{"field": "gone", "op": "is"}]},
    )
    response = manager_client.get(
        reverse("admin:analytics_churn"), _params(asked, saved_segment=broken.pk)
    )
    assert response.status_code == 200
    (error,) = response.context["errors"]
    assert error.startswith("“saved_segment”: this segment cannot be read: ")
    assert "gone" in error
    assert len(response.context["asked_rows"]) == 2
