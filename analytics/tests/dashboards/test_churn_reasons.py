"""Churn reasons: the complaint topics and low-scored comments of the members
who churned in the period, the page, its CSV and who may open it.

The period is last month (M1). With ANALYTICS_CHURN_DAYS = 90, a member whose
last purchase was 80 days before M1 began became churned during M1.

    member   last purchase          complaints (topic)       survey comment
    lost     M1 start − 80 days     service, points          NPS 3 "Rude staff"
    happy    M1 start − 80 days     —                        NPS 10 "All fine"
    loyal    M1 day 10 (active)     product                  NPS 2 "Too pricey"
"""

import csv
import datetime as dt
import io

import pytest
from django.urls import reverse
from django.utils import timezone

from analytics.selectors.churn_reasons import churn_complaint_topics, churn_low_comments
from analytics.selectors.periods import Period, local_month, month_add
from analytics.services.snapshots import snapshots_refresh_range
from analytics.tests.conftest import at, buy
from campaigns.models import Complaint, ComplaintTopic, SurveyKind, SurveyResponse
from campaigns.tests.factories import survey_make
from members.tests.factories import MemberFactory

pytestmark = pytest.mark.django_db

# Measured: 12 (session, user, 2 permissions, stores, program state, the topic
# aggregate, the comments with member and survey joined; the asked answers by
# reason and trigger, their members, their reasons, the share who answered).
MAX_QUERIES = 13


@pytest.fixture
def churn(settings, store):
    settings.ANALYTICS_CHURN_DAYS = 90
    m1 = month_add(local_month(), -1)
    tz = timezone.get_current_timezone()
    gone = dt.datetime.combine(m1 - dt.timedelta(days=80), dt.time(12), tzinfo=tz)
    lost = MemberFactory(store=store, first_name="Lost", last_name="One")
    happy = MemberFactory(store=store, first_name="Happy", last_name="Leaver")
    loyal = MemberFactory(store=store, first_name="Loyal", last_name="Buyer")
    buy(lost, store, gone - dt.timedelta(days=20), "50")
    buy(lost, store, gone, "50")
    buy(happy, store, gone, "40")
    buy(loyal, store, gone, "30")
    buy(loyal, store, at(m1, 10), "70")
    Complaint.objects.create(member=lost, topic=ComplaintTopic.SERVICE, created_at=gone)
    Complaint.objects.create(
        member=lost, topic=ComplaintTopic.POINTS, created_at=at(m1, 3)
    )
    Complaint.objects.create(
        member=loyal, topic=ComplaintTopic.PRODUCT, created_at=at(m1, 4)
    )
    nps = survey_make(kind=SurveyKind.NPS)
    SurveyResponse.objects.create(
        survey=nps, member=lost, score=3, comment="Rude staff", created_at=at(m1, 5)
    )
    satisfaction = survey_make(name="Satisfaction", kind=SurveyKind.SATISFACTION)
    SurveyResponse.objects.create(  # low, but no comment: not listed
        survey=satisfaction, member=lost, score=1, comment="", created_at=at(m1, 6)
    )
    SurveyResponse.objects.create(
        survey=nps, member=happy, score=10, comment="All fine", created_at=at(m1, 5)
    )
    SurveyResponse.objects.create(
        survey=nps, member=loyal, score=2, comment="Too pricey", created_at=at(m1, 5)
    )
    snapshots_refresh_range(
        day_from=gone.date() - dt.timedelta(days=30), day_to=timezone.localdate()
    )
    return {"m1": m1, "lost": lost, "happy": happy, "loyal": loyal}


@pytest.fixture
def manager_client(client, manager):
    client.force_login(manager)
    return client


def _params(churn):
    return {"from": f"{churn['m1']:%Y-%m}", "to": f"{churn['m1']:%Y-%m}"}


def test_only_churned_members_complaints_count_by_topic(churn):
    rows = churn_complaint_topics(Period(churn["m1"], churn["m1"]))
    assert [(r["topic"], r["complaints"], r["members"]) for r in rows] == [
        ("points", 1, 1),
        ("service", 1, 1),
    ]
    assert {r["label"] for r in rows} == {"Points and rewards", "Service"}


def test_only_low_scored_comments_of_churned_members_are_listed(churn):
    comments = churn_low_comments(Period(churn["m1"], churn["m1"]))
    assert [(c.member_id, c.score, c.comment) for c in comments] == [
        (churn["lost"].pk, 3, "Rude staff")
    ]


def test_a_month_when_nobody_churned_lists_nothing(churn):
    m2 = month_add(churn["m1"], -1)
    assert churn_complaint_topics(Period(m2, m2)) == []
    assert churn_low_comments(Period(m2, m2)) == []


def test_page_shows_chart_table_and_comments_in_bounded_queries(
    manager_client, churn, django_assert_max_num_queries
):
    with django_assert_max_num_queries(MAX_QUERIES):
        response = manager_client.get(reverse("admin:analytics_churn"), _params(churn))
    assert response.status_code == 200
    content = response.content.decode()
    assert 'id="chart-data-topics"' in content
    assert response.context["charts"]["topics"]["datasets"][0]["data"] == [1, 1]
    assert "Rude staff" in content
    assert "All fine" not in content
    assert "Too pricey" not in content
    assert reverse("admin:member360", args=[churn["lost"].pk]) in content
    assert "90 days" in content
    assert "<script>" not in content  # no inline script (CSP)


def test_page_queries_do_not_grow_with_churned_members(
    manager_client, churn, store, django_assert_max_num_queries
):
    nps = SurveyResponse.objects.first().survey
    gone = churn["lost"].purchases.order_by("-occurred_at").first().occurred_at
    for i in range(5):
        m = MemberFactory(store=store)
        buy(m, store, gone, "10")
        Complaint.objects.create(member=m, topic=ComplaintTopic.APP, created_at=gone)
        SurveyResponse.objects.create(
            survey=nps, member=m, score=1, comment=f"Bad {i}", created_at=gone
        )
    snapshots_refresh_range(
        day_from=gone.date() - dt.timedelta(days=30), day_to=timezone.localdate()
    )
    with django_assert_max_num_queries(MAX_QUERIES):
        response = manager_client.get(reverse("admin:analytics_churn"), _params(churn))
    assert response.status_code == 200
    assert len(response.context["comments"]) == 6


def test_dashboard_nav_links_the_churn_page(manager_client, churn):
    response = manager_client.get(reverse("admin:analytics_cohorts"))
    assert reverse("admin:analytics_churn").encode() in response.content


def test_csv_has_header_and_topic_rows(manager_client, churn):
    response = manager_client.get(
        reverse("admin:analytics_export", args=["churn_reasons"]), _params(churn)
    )
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows == [
        ["Complaint topic", "Complaints", "Churned members who complained"],
        ["Points and rewards", "1", "1"],
        ["Service", "1", "1"],
    ]


def test_store_filter_keeps_only_that_stores_churned_members(
    manager_client, churn, other_store
):
    params = {**_params(churn), "store": other_store.pk}
    response = manager_client.get(reverse("admin:analytics_churn"), params)
    assert response.status_code == 200
    assert response.context["topic_rows"] == []
    assert response.context["comments"] == []


def test_marketer_opens_the_page_cashier_gets_403(client, marketer, cashier, churn):
    client.force_login(marketer)
    assert client.get(reverse("admin:analytics_churn")).status_code == 200
    client.force_login(cashier)
    assert client.get(reverse("admin:analytics_churn")).status_code == 403
    assert (
        client.get(
            reverse("admin:analytics_export", args=["churn_reasons"])
        ).status_code
        == 403
    )


def test_empty_database_shows_the_page(manager_client):
    response = manager_client.get(reverse("admin:analytics_churn"))
    assert response.status_code == 200
    assert response.context["topic_rows"] == []
