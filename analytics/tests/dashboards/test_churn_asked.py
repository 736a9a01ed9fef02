"""Churn reasons, asked, beside the inferred ones: the answers of the period by
reason and trigger, the share of the churned who answered, the store and
segment filters, the page (both sides, a chart each) and the CSV.

On top of test_churn_reasons' `churn` (last month M1: lost and happy churned,
loyal still buying):

    lost    answered "price" on deleting the account, in M1      (churned)
    loyal   answered "service" from the win-back link, in M1     (not churned)
    other   answered "price" on cancelling, in M1, at other_store
    happy   did not answer                                       (churned)
"""

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from django.urls import reverse

from analytics.models import MemberRFM
from analytics.selectors.churn_asked import churn_answered_share, churn_asked_reasons
from analytics.selectors.periods import Period, month_add
from analytics.tests.conftest import at
from analytics.tests.dashboards.test_churn_reasons import churn  # noqa: F401
from members.models import LeaveAnswer, LeaveTrigger
from members.services import leave_reason_record, leave_reasons_ensure
from members.tests.factories import MemberFactory

pytestmark = pytest.mark.django_db


def _answer(member, reason, trigger, when, text=""):
    answer = leave_reason_record(
        member=member, trigger=trigger, reason=reason, text=text, key="k"
    )
    LeaveAnswer.objects.filter(pk=answer.pk).update(answered_at=when)


def _rfm(member, segment):
    now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    MemberRFM.objects.create(
        member=member, window_days=365, recency_days=1, frequency=1,
        monetary=Decimal(1), r_score=1, f_score=1, m_score=1, segment=segment,
        purchases_total=1, first_purchase_at=now, last_purchase_at=now,
        historic_value=Decimal(1), usual_gap_days=Decimal(1),
        expected_purchases=Decimal(1), predicted_value=Decimal(1),
        churn_risk="high", computed_at=now,
    )  # fmt: skip


@pytest.fixture
def asked(churn, other_store):  # noqa: F811
    leave_reasons_ensure()  # a transactional test before may have emptied the list
    m1 = churn["m1"]
    _answer(churn["lost"], "price", LeaveTrigger.DELETED, at(m1, 7))
    _answer(churn["loyal"], "service", LeaveTrigger.WIN_BACK, at(m1, 8))
    other = MemberFactory(store=other_store)
    _answer(other, "price", LeaveTrigger.MEMBERSHIP_CANCELLED, at(m1, 9))
    # Outside the period: not counted.
    _answer(churn["happy"], "moved", LeaveTrigger.WIN_BACK, at(month_add(m1, 1), 2))
    _rfm(churn["lost"], "lost")
    _rfm(churn["loyal"], "champions")
    return {**churn, "other": other, "period": Period(m1, m1)}


@pytest.fixture
def manager_client(client, manager):
    client.force_login(manager)
    return client


def _params(asked, **more):
    return {"from": f"{asked['m1']:%Y-%m}", "to": f"{asked['m1']:%Y-%m}", **more}


def test_answers_of_the_period_by_reason_and_trigger(asked):
    rows = churn_asked_reasons(asked["period"])
    assert [
        (r["code"], r["answers"], r["members"], r["share"], r["deleted"],
         r["membership_cancelled"], r["win_back"])
        for r in rows
    ] == [
        ("price", 2, 2, Decimal("66.7"), 1, 1, 0),
        ("service", 1, 1, Decimal("33.3"), 0, 0, 1),
    ]  # fmt: skip
    assert rows[0]["label"] == "Price"


def test_store_and_segment_filters(asked, other_store, store):
    period = asked["period"]
    assert [r["code"] for r in churn_asked_reasons(period, other_store.pk)] == ["price"]
    assert [
        (r["code"], r["answers"]) for r in churn_asked_reasons(period, store.pk)
    ] == [("price", 1), ("service", 1)]
    assert [r["code"] for r in churn_asked_reasons(period, segment="champions")] == [
        "service"
    ]


def test_share_of_the_churned_who_answered(asked):
    period = asked["period"]
    assert churn_answered_share(period) == {
        "churned": 2,
        "answered": 1,
        "share": Decimal("50.0"),
    }
    assert churn_answered_share(period, segment="lost") == {
        "churned": 1,
        "answered": 1,
        "share": Decimal("100.0"),
    }
    m2 = month_add(asked["m1"], -1)
    assert churn_answered_share(Period(m2, m2)) == {
        "churned": 0,
        "answered": 0,
        "share": None,
    }


def test_page_shows_asked_and_inferred_side_by_side(manager_client, asked):
    response = manager_client.get(reverse("admin:analytics_churn"), _params(asked))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-testid="churn-asked"' in html
    assert 'data-testid="churn-inferred"' in html
    assert 'id="chart-data-asked"' in html
    assert response.context["charts"]["asked"]["labels"] == ["Price", "Service"]
    assert response.context["charts"]["asked"]["datasets"][0]["data"] == [2, 1]
    assert "1 of 2 churned members answered the leaving question (50%)" in html
    assert reverse("admin:analytics_export", args=["churn_asked"]) in html


def test_segment_filter_on_the_page_and_in_its_csv_links(manager_client, asked):
    response = manager_client.get(
        reverse("admin:analytics_churn"), _params(asked, segment="lost")
    )
    assert [r["code"] for r in response.context["asked_rows"]] == ["price"]
    assert response.context["topic_rows"] != []  # lost's complaints stay
    assert "segment=lost" in response.context["csv"]["churn_asked"]
    assert "segment=lost" in response.context["csv"]["churn_reasons"]
    assert '<option value="lost" selected>' in response.content.decode()


def test_an_unknown_segment_is_named_and_ignored(manager_client, asked):
    response = manager_client.get(
        reverse("admin:analytics_churn"), _params(asked, segment="vip")
    )
    assert response.status_code == 200
    assert "“segment”: choose a segment from the list." in response.context["errors"]
    assert len(response.context["asked_rows"]) == 2


def test_csv_of_the_asked_reasons(manager_client, asked):
    response = manager_client.get(
        reverse("admin:analytics_export", args=["churn_asked"]),
        _params(asked, segment="champions"),
    )
    assert response.status_code == 200
    assert "champions" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][:4] == [
        "Reason given",
        "Answers",
        "Members who gave it",
        "Share of answers, %",
    ]
    assert rows[1:] == [["Service", "1", "1", "100.0", "0", "0", "0", "1"]]
