"""KPIs and cohort retention by age band and gender; the page and its CSVs."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from analytics.selectors.demographics import demographic_cohorts, demographic_kpis
from analytics.selectors.periods import Period, month_add
from analytics.tests.recs_data import Line, purchases_make
from members.models import Member
from members.tests.factories import MemberFactory

pytestmark = pytest.mark.django_db

MONTH = dt.date(2026, 3, 1)
TZ = dt.UTC


def _at(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(12)))


def _member(store, *, birthday, gender, enrolled: dt.date):
    member = MemberFactory(store=store)
    Member.objects.filter(pk=member.pk).update(
        birthday=birthday, gender=gender, enrolled_at=_at(enrolled)
    )
    member.refresh_from_db()
    return member


@pytest.fixture
def people(store):
    """In March 2026: two 25–34 women (one buys twice, 30 + 20), a 65+ man who
    buys once (50, 10 returned), one without a birthday who does not buy."""
    jan, mar = dt.date(2026, 1, 10), dt.date(2026, 3, 5)
    ann = _member(store, birthday=dt.date(1995, 5, 1), gender="f", enrolled=jan)
    bea = _member(store, birthday=dt.date(1992, 3, 31), gender="f", enrolled=mar)
    cid = _member(store, birthday=dt.date(1950, 1, 1), gender="m", enrolled=jan)
    dan = _member(store, birthday=None, gender="", enrolled=jan)
    purchases_make(
        store,
        [
            (ann, _at(dt.date(2026, 3, 10)), Decimal("30"), [Line("A")], None),
            (ann, _at(dt.date(2026, 3, 11)), Decimal("20"), [Line("A")], None),
            (cid, _at(dt.date(2026, 3, 12)), Decimal("50"), [Line("B")], Decimal("10")),
            (cid, _at(dt.date(2026, 1, 20)), Decimal("5"), [Line("B")], None),
        ],
    )
    return ann, bea, cid, dan


def test_kpis_by_age_band(people):
    rows = {
        r["key"]: r for r in demographic_kpis(Period(MONTH, MONTH), None, "age_band")
    }
    assert list(rows) == [
        "0-17",
        "18-24",
        "25-34",
        "35-44",
        "45-54",
        "55-64",
        "65+",
        "unknown",
    ]
    young = rows["25-34"]
    assert (young["members"], young["new"], young["active"]) == (2, 1, 1)
    assert young["purchases"] == 2 and young["sales"] == Decimal("50.00")
    assert young["active_share"] == Decimal("50.00")
    assert young["sales_per_active"] == Decimal("50.00")
    assert (rows["65+"]["active"], rows["65+"]["sales"]) == (1, Decimal("40.00"))
    assert (rows["unknown"]["members"], rows["unknown"]["active"]) == (1, 0)
    assert rows["unknown"]["active_share"] == Decimal("0.00")
    assert rows["18-24"]["active_share"] is None  # no members


def test_kpis_by_gender(people):
    rows = {r["key"]: r for r in demographic_kpis(Period(MONTH, MONTH), None, "gender")}
    assert (rows["f"]["members"], rows["f"]["active"]) == (2, 1)
    assert (rows["m"]["members"], rows["m"]["sales"]) == (1, Decimal("40.00"))
    assert rows[""]["members"] == 1


def test_cohorts_by_age_band(people):
    matrix = demographic_cohorts(last=MONTH, by="age_band", months=3)
    rows = {r["key"]: r for r in matrix["rows"]}
    # January's 65+ cohort (1): bought in month 0 and month 2.
    senior = [(c["active"], c["base"]) for c in rows["65+"]["cells"]]
    assert senior == [(1, 1), (0, 1), (1, 1)]
    # 25–34: Ann (January, buys in March = month 2), Bea (March, month 0).
    young = [(c["active"], c["base"], c["pct"]) for c in rows["25-34"]["cells"]]
    assert young == [
        (0, 2, Decimal("0.00")),
        (0, 1, Decimal("0.00")),
        (1, 1, Decimal("100.00")),
    ]
    assert rows["18-24"]["members"] == 0


def test_the_page_shows_bands_and_exports_csv(admin_client, people):
    params = {"from": f"{MONTH:%Y-%m}", "to": f"{MONTH:%Y-%m}"}
    page = admin_client.get(reverse("admin:analytics_demographics"), params)
    assert page.status_code == 200
    body = page.content.decode()
    assert "table-age_bands" in body and "table-cohorts_genders" in body
    assert page.context["charts"]["bands"]["datasets"][0]["data"][2] == 2
    for table in ("age_bands", "genders", "cohorts_age_bands", "cohorts_genders"):
        response = admin_client.get(
            reverse("admin:analytics_export", args=[table]), params
        )
        assert response.status_code == 200
        rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
        assert len(rows) > 3, table
    bands = admin_client.get(
        reverse("admin:analytics_export", args=["age_bands"]), params
    )
    rows = list(csv.reader(io.StringIO(bands.content.decode("utf-8-sig"))))
    assert rows[3][:4] == [rows[3][0], "2", "1", "1"]


def test_cashier_may_not_open_the_page(client, cashier):
    client.force_login(cashier)
    response = client.get(reverse("admin:analytics_demographics"))
    assert response.status_code in (302, 403)


def test_months_before_the_period_do_not_count(people):
    previous = month_add(MONTH, -1)
    rows = {
        r["key"]: r
        for r in demographic_kpis(Period(previous, previous), None, "age_band")
    }
    assert rows["25-34"]["active"] == 0 and rows["25-34"]["members"] == 1
