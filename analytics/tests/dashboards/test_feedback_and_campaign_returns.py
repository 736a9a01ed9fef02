"""NPS, satisfaction, complaints and campaign returns on the dashboards,
against values worked out by hand.

    M1 (the period)                              M2 (the previous period)
    NPS answers 10, 9, 7, 3 -> (2 - 1) / 4 = 25.0   10, 5 -> (1 - 1) / 2 = 0.0
    satisfaction 4, 5, 3 -> 4.00                 2 -> 2.00
    complaints opened: c1, c2, c4 = 3            c3, c5 = 2
    resolved: c1 10 h, c2 48 h, c3 26 h          c5 24 h
      -> median 26.0 h                             -> 24.0 h (change +8.3 %)
    campaign "Spring" (window 10 days, started M1-5): recipients r1 100, r2 50,
    r3 nothing in the window (500 after it); holdout h1 30 -> 50.00 vs 30.00 per
    member, 3 x 20 = 60.00 over the holdout; spend " spring " 40 -> 1.50.
"""

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from analytics.models import MarketingSpend
from analytics.selectors.campaign_returns import campaign_returns
from analytics.selectors.feedback import feedback_figures
from analytics.selectors.kpis import PROGRAM_KPIS, kpis
from analytics.selectors.periods import Period
from analytics.services.snapshots import snapshots_refresh_range
from analytics.tests.conftest import at, buy
from campaigns.models import (
    CampaignRecipient,
    CampaignRun,
    Complaint,
    ComplaintStatus,
    ComplaintTopic,
    SurveyKind,
)
from campaigns.sending.selectors import run_figures
from campaigns.tests.factories import (
    campaign_make,
    response_make,
    segment_all,
    survey_make,
)
from members.tests.factories import MemberFactory
from rewards.services import purchase_return_record

pytestmark = pytest.mark.django_db

UTC = dt.UTC


def _complaint(member, store, created, resolved=None):
    return Complaint.objects.create(
        member=member,
        store=store,
        topic=ComplaintTopic.SERVICE,
        status=ComplaintStatus.RESOLVED if resolved else ComplaintStatus.NEW,
        created_at=created,
        resolved_at=resolved,
    )


@pytest.fixture
def feedback(history):
    h = history
    nps = survey_make(kind=SurveyKind.NPS)
    sat = survey_make(name="Satisfied?", kind=SurveyKind.SATISFACTION)
    for day, score in ((3, 10), (4, 9), (5, 7), (6, 3)):
        response_make(
            survey=nps, member=MemberFactory(), score=score, when=at(h.m1, day)
        )
    for day, score in ((3, 10), (4, 5)):
        response_make(
            survey=nps, member=MemberFactory(), score=score, when=at(h.m2, day)
        )
    for day, score in ((3, 4), (4, 5), (5, 3)):
        response_make(
            survey=sat, member=MemberFactory(), score=score, when=at(h.m1, day)
        )
    response_make(survey=sat, member=MemberFactory(), score=2, when=at(h.m2, 9))
    # Times in UTC so that the hours are real hours whatever the clocks do.
    m1_start = at(h.m1, 1, 0).astimezone(UTC)
    c1 = at(h.m1, 3, 8).astimezone(UTC)
    c2 = at(h.m1, 5, 8).astimezone(UTC)
    c5 = at(h.m2, 10, 8).astimezone(UTC)
    _complaint(h.a, h.s1, c1, c1 + dt.timedelta(hours=10))
    _complaint(h.a, h.s1, c2, c2 + dt.timedelta(hours=48))
    _complaint(
        h.b,
        h.s1,
        m1_start - dt.timedelta(hours=6),
        m1_start + dt.timedelta(hours=20),
    )
    _complaint(h.c, h.s2, at(h.m1, 10))
    _complaint(h.b, h.s1, c5, c5 + dt.timedelta(hours=24))
    return h


def test_feedback_figures_match_hand_computed_values(feedback):
    figures = feedback_figures(Period(feedback.m1, feedback.m1), None)
    assert figures["cur"] == {
        "nps": Decimal("25.0"),
        "satisfaction": Decimal("4.0"),
        "complaints_opened": 3,
        "complaints_resolved": 3,
        "complaint_resolve_hours": Decimal("26.0"),
    }
    assert figures["prev"] == {
        "nps": Decimal("0.0"),
        "satisfaction": Decimal("2.0"),
        "complaints_opened": 2,
        "complaints_resolved": 1,
        "complaint_resolve_hours": Decimal("24.0"),
    }


def test_feedback_kpis_show_the_change_against_the_previous_period(feedback):
    cards = kpis(Period(feedback.m1, feedback.m1))
    assert cards["nps"].change == Decimal("25.0")
    assert cards["nps"].change_unit == ""
    assert cards["satisfaction"].change == Decimal("2.0")
    assert cards["complaints_opened"].change == Decimal("50.0")
    assert cards["complaints_resolved"].change == Decimal("200.0")
    assert cards["complaint_resolve_hours"].change == Decimal("8.3")
    assert cards["complaint_resolve_hours"].change_unit == "%"


def test_a_store_sees_only_its_complaints(feedback):
    figures = feedback_figures(Period(feedback.m1, feedback.m1), feedback.s2.pk)
    assert figures["cur"]["complaints_opened"] == 1
    assert figures["cur"]["complaints_resolved"] == 0
    assert figures["cur"]["complaint_resolve_hours"] is None
    # The answers above carry no store: none counts for a store.
    assert figures["cur"]["nps"] is None


def test_feedback_figures_cost_five_queries(feedback, django_assert_num_queries):
    with django_assert_num_queries(5):
        feedback_figures(Period(feedback.m1, feedback.m1), None)


def test_pages_without_feedback_keys_skip_those_queries(feedback):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        cards = kpis(Period(feedback.m1, feedback.m1), None, PROGRAM_KPIS)
    assert cards["nps"].value is None
    sql = " ".join(q["sql"] for q in queries.captured_queries)
    assert "surveyresponse" not in sql
    assert "complaint" not in sql


# --- campaigns -------------------------------------------------------------------------


def _run(campaign, number, started):
    return CampaignRun.objects.create(
        campaign=campaign,
        number=number,
        key=f"campaign:{campaign.pk}:{number}",
        started_at=started,
        status="sent",
    )


def _recipients(run, members, holdout=False):
    for member in members:
        CampaignRecipient.objects.create(
            run=run, member=member, holdout=holdout, processed=True
        )


@pytest.fixture
def campaigns(history):
    h = history
    r1, r2, r3, h1, x = (MemberFactory(store=h.s1) for _ in range(5))
    spring = campaign_make(name="Spring", segment=segment_all(), window_days=10)
    run = _run(spring, 1, at(h.m1, 5))
    _recipients(run, [r1, r2, r3])
    _recipients(run, [h1], holdout=True)
    buy(r1, h.s1, at(h.m1, 6), "100")
    buy(r2, h.s1, at(h.m1, 14), "50")
    buy(r3, h.s1, at(h.m1, 20), "500")  # after the ten days
    buy(h1, h.s1, at(h.m1, 7), "30")
    MarketingSpend.objects.create(month=h.m1, amount=Decimal("40"), campaign=" spring ")
    MarketingSpend.objects.create(month=h.m2, amount=Decimal("999"), campaign="Spring")
    autumn = campaign_make(name="Autumn", segment=segment_all())
    _recipients(_run(autumn, 1, at(h.m1, 8)), [x])
    old = campaign_make(name="Old", segment=segment_all())
    _recipients(_run(old, 1, at(h.m2, 8)), [x])
    return h, run


def test_campaign_returns_match_hand_computed_values(campaigns):
    h, _run_ = campaigns
    rows = {r["campaign"]: r for r in campaign_returns(Period(h.m1, h.m1))}
    assert set(rows) == {"Spring", "Autumn"}
    spring = rows["Spring"]
    assert spring == {
        "campaign": "Spring",
        "runs": 1,
        "recipients": 3,
        "held_out": 1,
        "revenue": Decimal("150.00"),
        "revenue_per_recipient": Decimal("50.00"),
        "revenue_per_held_out": Decimal("30.00"),
        "incremental": Decimal("60.00"),
        "spend": Decimal("40.00"),
        "return_on_spend": Decimal("1.50"),
    }
    autumn = rows["Autumn"]
    assert (autumn["recipients"], autumn["incremental"], autumn["spend"]) == (
        1,
        None,
        None,
    )
    assert autumn["return_on_spend"] is None


def test_campaign_returns_agree_with_the_run_figures(campaigns):
    h, run = campaigns
    figures = run_figures(run=run)
    row = next(
        r for r in campaign_returns(Period(h.m1, h.m1)) if r["campaign"] == "Spring"
    )
    assert row["revenue"] == figures.recipients.revenue
    assert row["revenue_per_recipient"] == figures.recipients.revenue_per_member
    assert row["revenue_per_held_out"] == figures.holdout.revenue_per_member
    assert row["incremental"] == (
        figures.revenue_uplift_per_member * figures.recipients.members
    )


def test_campaign_returns_deduct_returns_as_the_run_figures_do(campaigns):
    h, run = campaigns
    r1 = run.recipients.filter(holdout=False).order_by("member_id").first().member
    purchase = r1.purchases.get()  # 100, inside the window
    purchase_return_record(
        purchase=purchase, store=h.s1, receipt_id="BACK-1", amount=Decimal("30")
    )
    figures = run_figures(run=run)
    row = next(
        r for r in campaign_returns(Period(h.m1, h.m1)) if r["campaign"] == "Spring"
    )
    # 100 - 30 + 50 = 120 for three recipients; the holdout's 30 is untouched.
    assert row["revenue"] == figures.recipients.revenue == Decimal("120.00")
    assert row["revenue_per_recipient"] == Decimal("40.00")
    assert row["incremental"] == Decimal("30.00")  # 3 × (40 - 30)


def test_campaign_returns_cost_three_queries_however_many_runs(
    campaigns, django_assert_num_queries
):
    h, _run_ = campaigns
    spring = CampaignRun.objects.get(number=1, campaign__name="Spring").campaign
    for n in range(2, 6):
        _recipients(_run(spring, n, at(h.m1, 10 + n)), [h.a, h.b])
    with django_assert_num_queries(3):
        rows = campaign_returns(Period(h.m1, h.m1))
    assert next(r for r in rows if r["campaign"] == "Spring")["runs"] == 5


# --- the page and its CSV ---------------------------------------------------------------


@pytest.fixture
def manager_client(client, manager):
    client.force_login(manager)
    return client


def test_overview_shows_the_new_cards_and_the_campaign_table(
    manager_client, feedback, campaigns, django_assert_max_num_queries
):
    snapshots_refresh_range(day_from=feedback.m3, day_to=timezone.localdate())
    params = {"from": f"{feedback.m1:%Y-%m}", "to": f"{feedback.m1:%Y-%m}"}
    with django_assert_max_num_queries(30):
        response = manager_client.get(reverse("admin:analytics_overview"), params)
    assert response.status_code == 200
    cards = {c.key: c for c in response.context["cards"]}
    assert cards["nps"].value == Decimal("25.0")
    assert cards["complaint_resolve_hours"].value == Decimal("26.0")
    # (1000 + the campaign's 40) / the 2 members who enrolled in M1
    assert cards["acquisition_cost"].value == Decimal("520.00")
    assert b'id="table-campaigns"' in response.content
    assert b"Spring" in response.content
    assert b'data-testid="csv-campaigns"' in response.content


def test_campaign_table_exports_csv(manager_client, campaigns):
    h, _run_ = campaigns
    response = manager_client.get(
        reverse("admin:analytics_export", args=["campaigns"]),
        {"from": f"{h.m1:%Y-%m}", "to": f"{h.m1:%Y-%m}"},
    )
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][0] == "Campaign"
    spring = next(r for r in rows if r[0] == "Spring")
    assert spring[-3:] == ["60.00", "40.00", "1.50"]


def test_overview_csv_has_the_new_metrics(manager_client, feedback):
    snapshots_refresh_range(day_from=feedback.m3, day_to=timezone.localdate())
    response = manager_client.get(
        reverse("admin:analytics_export", args=["overview"]),
        {"from": f"{feedback.m1:%Y-%m}", "to": f"{feedback.m1:%Y-%m}"},
    )
    rows = {r[0]: r for r in csv.reader(io.StringIO(response.content.decode()))}
    assert rows["Net Promoter Score"][1:4] == ["25.0", "0.0", "25.0 "]
    assert rows["Time to resolve"][1:4] == ["26.0", "24.0", "8.3 %"]
    assert rows["Complaints opened"][1:3] == ["3", "2"]
