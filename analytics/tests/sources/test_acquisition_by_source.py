"""Acquisition per channel and store: new members by source, spend by channel
(a channel's program-wide spend shared by the stores' part of its new
members), CAC, CLV, CLV:CAC and months to pay back, worked out by hand.

Period: last month (M1). New members in M1:
    T1, T2  till at S1        T3 till at S2
    O1, O2  online (UTM facebook/cpc/spring, google/cpc/brand)
    R1      referral by T1 at S1          I1 import, no store
Enrolled before M1 (not counted): OLD, till at S1.
Value (MemberRFM): T1 historic 100 + predicted 240; T2 50 + 120; O1 0 + 1200.
Acquisition spend in M1: till at S1 300, till program-wide 90, online
program-wide 400, partner program-wide 50. Not counted: retention 1000
(online), till at S1 in M3 500.

    till:   3 members, 300 + 90 = 390, CAC 130, CLV (150 + 360) / 3 = 170,
            CLV:CAC 1.31, pay back 390 / (360 / 12) = 13.0 months
            S1: 2 members, 300 + 90 × 2/3 = 360, CAC 180; S2: 30, CAC 30
    online: 2 members, 400, CAC 200, CLV 600, CLV:CAC 3.00, 4.0 months
    partner: nobody new: 50 spent, no CAC
"""

import csv
import io
from decimal import Decimal

import pytest
from django.urls import reverse

from analytics.models import MarketingSpend, MemberRFM, SpendKind
from analytics.selectors.periods import Period, local_month, month_add
from analytics.selectors.sources import (
    acquisition_by_channel,
    acquisition_by_channel_store,
    acquisition_by_utm,
)
from analytics.tests.conftest import at
from members.models import ConsentSource
from members.services import FirstTouch, member_enroll

pytestmark = pytest.mark.django_db

# About 10: session, user, permissions, stores, program state, members by
# source and store, spend by channel and store, store names, UTM groups.
MAX_QUERIES = 12


def _value(member, historic, predicted):
    now = at(month_add(local_month(), -1), 20)
    MemberRFM.objects.create(
        member=member, window_days=365, recency_days=1, frequency=1,
        monetary=Decimal(1), r_score=5, f_score=5, m_score=5, segment="champions",
        purchases_total=1, first_purchase_at=now, last_purchase_at=now,
        historic_value=Decimal(historic), usual_gap_days=Decimal(30),
        expected_purchases=Decimal(1), predicted_value=Decimal(predicted),
        churn_risk="low", computed_at=now,
    )  # fmt: skip


@pytest.fixture
def acq(store, other_store):
    m1 = month_add(local_month(), -1)
    m3 = month_add(m1, -2)
    phones = iter(range(1000, 2000))

    def enroll(day, **kwargs):
        return member_enroll(
            phone=f"+38067{next(phones):07d}", enrolled_at=at(m1, day), **kwargs
        )

    t1 = enroll(2, store=store)
    t2 = enroll(3, store=store, source=ConsentSource.API)
    enroll(4, store=other_store)
    o1 = enroll(
        5,
        source=ConsentSource.PORTAL,
        first_touch=FirstTouch(
            utm_source="facebook", utm_medium="cpc", utm_campaign="spring"
        ),
    )
    enroll(
        6,
        source=ConsentSource.PORTAL,
        first_touch=FirstTouch(
            utm_source="google", utm_medium="cpc", utm_campaign="brand"
        ),
    )
    enroll(7, store=store, referral_code=t1.referral_code)
    enroll(8, source=ConsentSource.IMPORT)
    member_enroll(phone="+380679999999", store=store, enrolled_at=at(m3, 5))
    _value(t1, 100, 240)
    _value(t2, 50, 120)
    _value(o1, 0, 1200)
    for amount, channel, store_, kind, month in (
        ("300", "till", store, SpendKind.ACQUISITION, m1),
        ("90", "till", None, SpendKind.ACQUISITION, m1),
        ("400", "online", None, SpendKind.ACQUISITION, m1),
        ("50", "partner", None, SpendKind.ACQUISITION, m1),
        ("1000", "online", None, SpendKind.RETENTION, m1),
        ("500", "till", store, SpendKind.ACQUISITION, m3),
    ):
        MarketingSpend.objects.create(
            month=month,
            amount=Decimal(amount),
            channel=channel,
            store=store_,
            kind=kind,
        )
    return Period(m1, m1)


def _by_channel(rows):
    return {
        r["channel"]: (
            r["new_members"],
            r["spend"],
            r["cac"],
            r["clv"],
            r["clv_to_cac"],
            r["months_to_payback"],
        )
        for r in rows
    }


def test_channels_figures_for_all_stores(acq):
    rows = _by_channel(acquisition_by_channel(acq))
    D = Decimal
    assert rows == {
        "till": (3, D("390"), D("130.00"), D("170.00"), D("1.31"), D("13.0")),
        "online": (2, D("400"), D("200.00"), D("600.00"), D("3.00"), D("4.0")),
        "referral": (1, D("0"), D("0.00"), D("0.00"), None, None),
        "partner": (0, D("50"), None, None, None, None),
        "import": (1, D("0"), D("0.00"), D("0.00"), None, None),
        "other": (0, D("0"), None, None, None, None),
    }


def test_a_store_carries_its_own_spend_and_its_share_of_the_channels(
    acq, store, other_store
):
    rows = _by_channel(acquisition_by_channel(acq, store.pk))
    assert rows["till"][:3] == (2, Decimal("360.00"), Decimal("180.00"))
    assert rows["referral"][0] == 1
    assert rows["online"][:3] == (0, Decimal("0"), None)
    other = _by_channel(acquisition_by_channel(acq, other_store.pk))
    assert other["till"][:3] == (1, Decimal("30.00"), Decimal("30.00"))


def test_channel_store_rows_add_up_to_all_the_spend(acq, store, other_store):
    rows = {
        (r["channel"], r["store"]): (r["new_members"], r["own_spend"], r["allocated"])
        for r in acquisition_by_channel_store(acq)
    }
    assert rows == {
        ("till", store.name): (2, Decimal("300"), Decimal("60.00")),
        ("till", other_store.name): (1, Decimal("0"), Decimal("30.00")),
        ("online", "No store"): (2, Decimal("0"), Decimal("400.00")),
        ("referral", store.name): (1, Decimal("0"), Decimal("0")),
        ("partner", "No store"): (0, Decimal("0"), Decimal("50")),
        ("import", "No store"): (1, Decimal("0"), Decimal("0")),
    }
    assert sum(own + allocated for _n, own, allocated in rows.values()) == Decimal(
        "840"
    )


def test_utm_table_groups_the_online_members(acq):
    rows = [
        (r["utm_source"], r["utm_campaign"], r["new_members"], r["clv"])
        for r in acquisition_by_utm(acq)
    ]
    assert rows == [
        ("facebook", "spring", 1, Decimal("1200.00")),
        ("google", "brand", 1, Decimal("0.00")),
    ]


def _params(period):
    return {"from": f"{period.first:%Y-%m}", "to": f"{period.last:%Y-%m}"}


def test_page_shows_charts_and_tables_in_bounded_queries(
    client, marketer, acq, django_assert_max_num_queries
):
    client.force_login(marketer)
    with django_assert_max_num_queries(MAX_QUERIES):
        response = client.get(reverse("admin:analytics_acquisition"), _params(acq))
    assert response.status_code == 200
    content = response.content.decode()
    members = response.context["charts"]["members"]
    assert members["labels"][:2] == ["Till or counter in a store", "Online sign-up"]
    assert members["datasets"][0]["data"] == [3, 2, 1, 0, 1, 0]
    value = response.context["charts"]["value"]
    assert value["datasets"][0]["data"][:2] == [130.0, 200.0]
    assert value["datasets"][1]["data"][:2] == [170.0, 600.0]
    assert 'id="chart-data-value"' in content
    assert "facebook" in content
    assert "<script>" not in content  # no inline script (CSP)


def test_other_dashboards_link_the_page(client, marketer):
    client.force_login(marketer)
    response = client.get(reverse("admin:analytics_overview"))
    assert reverse("admin:analytics_acquisition").encode() in response.content


def test_csv_of_the_channels(client, marketer, acq):
    client.force_login(marketer)
    response = client.get(
        reverse("admin:analytics_export", args=["channels"]), _params(acq)
    )
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0] == [
        "Channel",
        "New members",
        "Acquisition spend",
        "Acquisition cost per member",
        "CLV per member",
        "CLV : CAC",
        "Months to pay back",
    ]
    assert rows[1] == [
        "Till or counter in a store",
        "3",
        "390.00",
        "130.00",
        "170.00",
        "1.31",
        "13.0",
    ]
    for table in ("channel_stores", "utm"):
        response = client.get(
            reverse("admin:analytics_export", args=[table]), _params(acq)
        )
        assert response.status_code == 200


def test_a_utm_value_that_looks_like_a_formula_is_neutralised_in_csv(
    client, marketer, acq
):
    member_enroll(
        phone="+380675550000",
        source=ConsentSource.PORTAL,
        enrolled_at=at(acq.first, 9),
        first_touch=FirstTouch(utm_source="=HYPERLINK(1)"),
    )
    client.force_login(marketer)
    response = client.get(reverse("admin:analytics_export", args=["utm"]), _params(acq))
    assert "'=HYPERLINK(1)" in response.content.decode("utf-8-sig")


def test_cashier_gets_403(client, cashier):
    client.force_login(cashier)
    assert client.get(reverse("admin:analytics_acquisition")).status_code == 403


def test_empty_database_shows_the_page(client, manager):
    client.force_login(manager)
    response = client.get(reverse("admin:analytics_acquisition"))
    assert response.status_code == 200
    assert all(r["new_members"] == 0 for r in response.context["channel_rows"])
    assert response.context["utm_rows"] == []


def test_spend_of_a_month_after_the_period_is_not_counted(acq):
    nxt = month_add(acq.first, 1)
    MarketingSpend.objects.create(month=nxt, amount=Decimal("9"), channel="online")
    assert _by_channel(acquisition_by_channel(acq))["online"][1] == Decimal("400")
