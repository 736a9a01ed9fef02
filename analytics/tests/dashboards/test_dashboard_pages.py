"""The dashboards: who may open them, bounded queries, CSV exports, and the
admin of store sales and marketing spend."""

import csv
import io
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from analytics.models import MarketingSpend, StoreSales
from analytics.services.snapshots import snapshots_refresh_range
from members.tests.factories import StoreFactory

pytestmark = pytest.mark.django_db

PAGES = [
    "admin:analytics_overview",
    "admin:analytics_program",
    "admin:analytics_cohorts",
    "admin:analytics_demographics",
]
TABLES = [
    "overview", "program", "metrics", "stores", "daily", "points", "vouchers",
    "tiers", "cohorts", "definitions", "rate_months", "rate_stores", "rate_tiers",
    "age_bands", "genders", "cohorts_age_bands", "cohorts_genders",
]  # fmt: skip


# The Overview page also reads NPS, satisfaction and complaints (five queries)
# and the campaign table (up to three) from the live tables: 22 + 8.
MAX_QUERIES = {
    "admin:analytics_overview": 30,
    "admin:analytics_program": 22,
    "admin:analytics_cohorts": 22,
    # Read live: 4 queries per grouping for the KPIs, 2 per grouping for cohorts.
    "admin:analytics_demographics": 30,
}
# The overview and metrics tables: 15 + the five feedback queries.
MAX_CSV_QUERIES = 20


@pytest.fixture
def refreshed(history):
    snapshots_refresh_range(day_from=history.m3, day_to=timezone.localdate())
    return history


@pytest.fixture
def manager_client(client, manager):
    client.force_login(manager)
    return client


@pytest.mark.parametrize("page", PAGES)
def test_manager_opens_each_dashboard_in_bounded_queries(
    manager_client, refreshed, page, django_assert_max_num_queries
):
    params = {"from": f"{refreshed.m3:%Y-%m}", "to": f"{refreshed.m1:%Y-%m}"}
    with django_assert_max_num_queries(MAX_QUERIES[page]):
        response = manager_client.get(reverse(page), params)
    assert response.status_code == 200
    assert b"chart-data-" in response.content


@pytest.mark.parametrize("page", PAGES)
def test_queries_do_not_grow_with_stores_and_members(
    manager_client, refreshed, page, django_assert_max_num_queries
):
    from analytics.tests.conftest import at, buy
    from members.tests.factories import MemberFactory

    for n in range(5):
        shop = StoreFactory(code=f"more{n}", name=f"More {n}")
        buy(MemberFactory(store=shop), shop, at(refreshed.m1, 7), "10")
    snapshots_refresh_range(day_from=refreshed.m3, day_to=timezone.localdate())
    with django_assert_max_num_queries(MAX_QUERIES[page]):
        assert manager_client.get(reverse(page)).status_code == 200


def test_overview_shows_cards_with_change(manager_client, refreshed):
    response = manager_client.get(
        reverse("admin:analytics_overview"),
        {"from": f"{refreshed.m1:%Y-%m}", "to": f"{refreshed.m1:%Y-%m}"},
    )
    cards = {c.key: c for c in response.context["cards"]}
    assert cards["active_members"].value == 2
    assert b"Retention rate" in response.content
    assert b"-8.6%" in response.content  # average order value against M2


def test_marketer_sees_the_dashboards_cashier_does_not(
    client, marketer, cashier, refreshed
):
    client.force_login(marketer)
    assert client.get(reverse("admin:analytics_overview")).status_code == 200
    client.force_login(cashier)
    assert client.get(reverse("admin:analytics_overview")).status_code == 403
    assert (
        client.get(reverse("admin:analytics_export", args=["daily"])).status_code == 403
    )


def test_admin_index_links_the_dashboards(manager_client):
    response = manager_client.get(reverse("admin:index"))
    assert reverse("admin:analytics_overview").encode() in response.content


def test_bad_filters_say_which_field(manager_client, refreshed):
    response = manager_client.get(
        reverse("admin:analytics_overview"), {"from": "May", "store": "999"}
    )
    assert response.status_code == 200
    errors = response.context["errors"]
    assert any("“from”" in e for e in errors)
    assert any("“store”" in e for e in errors)


@pytest.mark.parametrize("table", TABLES)
def test_every_table_exports_csv(
    manager_client, refreshed, table, django_assert_max_num_queries
):
    params = {"from": f"{refreshed.m1:%Y-%m}", "to": f"{refreshed.m1:%Y-%m}"}
    with django_assert_max_num_queries(MAX_CSV_QUERIES):
        response = manager_client.get(
            reverse("admin:analytics_export", args=[table]), params
        )
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert len(rows) >= 2
    assert all(len(r) == len(rows[0]) for r in rows)


def test_stores_csv_has_the_right_figures(manager_client, refreshed):
    response = manager_client.get(
        reverse("admin:analytics_export", args=["stores"]),
        {"from": f"{refreshed.m1:%Y-%m}", "to": f"{refreshed.m1:%Y-%m}"},
    )
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    total = next(r for r in rows if r["Store"] == "All stores")
    assert total["Purchases"] == "3"
    assert total["Sales"] == "480.00"
    assert total["Participation, %"] == "25.00"


def test_unknown_table_is_404(manager_client):
    assert (
        manager_client.get(reverse("admin:analytics_export", args=["nope"])).status_code
        == 404
    )


def test_empty_database_shows_pages_without_errors(manager_client):
    for page in PAGES:
        response = manager_client.get(reverse(page))
        assert response.status_code == 200
        assert b"have not been computed yet" in response.content


class TestStoreSalesAdmin:
    def test_changelist_and_search(self, manager_client, store):
        StoreSales.objects.create(store=store, day="2026-01-05", total=Decimal("900"))
        url = reverse("admin:analytics_storesales_changelist")
        assert manager_client.get(url).status_code == 200
        response = manager_client.get(url, {"q": store.name})
        assert response.context["cl"].result_count == 1

    def test_add_records_who_entered(self, manager_client, manager, store):
        url = reverse("admin:analytics_storesales_add")
        assert manager_client.get(url).status_code == 200
        response = manager_client.post(
            url,
            {
                "store": store.pk,
                "day": "2026-02-01",
                "total": "1234.50",
                "receipts": 40,
            },
        )
        assert response.status_code == 302
        row = StoreSales.objects.get()
        assert row.entered_by == manager and row.total == Decimal("1234.50")

    def test_the_same_day_twice_is_a_form_error(self, manager_client, store):
        StoreSales.objects.create(store=store, day="2026-02-01", total=Decimal("1"))
        response = manager_client.post(
            reverse("admin:analytics_storesales_add"),
            {"store": store.pk, "day": "2026-02-01", "total": "5", "receipts": 1},
        )
        assert response.status_code == 200
        assert StoreSales.objects.count() == 1

    def test_change_page(self, manager_client, store):
        row = StoreSales.objects.create(
            store=store, day="2026-01-05", total=Decimal("900")
        )
        url = reverse("admin:analytics_storesales_change", args=[row.pk])
        assert manager_client.get(url).status_code == 200


class TestMarketingSpendAdmin:
    def test_changelist_search_add_change(self, client, marketer, store):
        client.force_login(marketer)
        url = reverse("admin:analytics_marketingspend_changelist")
        assert client.get(url).status_code == 200
        add = reverse("admin:analytics_marketingspend_add")
        assert client.get(add).status_code == 200
        response = client.post(
            add,
            {
                "month": "2026-03-17",
                "amount": "5000",
                "kind": "retention",
                "channel": "till",
                "store": store.pk,
                "campaign": "Radio",
                "note": "",
            },
        )
        assert response.status_code == 302
        row = MarketingSpend.objects.get()
        assert row.month.day == 1  # any day stands for its month
        assert (row.kind, row.channel, row.store) == ("retention", "till", store)
        assert client.get(url, {"channel__exact": "till"}).status_code == 200
        assert client.get(url, {"kind__exact": "retention"}).status_code == 200
        assert client.get(url, {"q": "Radio"}).context["cl"].result_count == 1
        change = reverse("admin:analytics_marketingspend_change", args=[row.pk])
        assert client.get(change).status_code == 200

    def test_negative_amount_is_refused(self, client, marketer):
        client.force_login(marketer)
        response = client.post(
            reverse("admin:analytics_marketingspend_add"),
            {
                "month": "2026-03-01",
                "amount": "-5",
                "kind": "acquisition",
                "campaign": "",
                "note": "",
            },
        )
        assert response.status_code == 200
        assert not MarketingSpend.objects.exists()


def test_program_page_shows_the_effective_reward_rate(manager_client, refreshed):
    """1 point per UAH at 0.10 UAH a point: 10 % of what was kept, per month,
    store and tier, and in the previous period."""
    month = f"{refreshed.m1:%Y-%m}"
    response = manager_client.get(
        reverse("admin:analytics_program"),
        {"from": month, "to": month},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    rate = response.context["reward_rate"]
    # m1: 80 + 100 + 300 UAH less 100 returned; 480 points less 100 taken back
    assert (rate["current"].sales, rate["current"].points) == (Decimal("380"), 380)
    assert rate["current"].rate == Decimal("10.00")
    assert rate["previous"].sales == Decimal("350")  # m2: 200 + 150
    html = response.content.decode()
    assert 'data-testid="reward-rate-value">10%' in html
    assert rate["chart"]["labels"] == [month]
    assert rate["chart"]["datasets"][0]["data"] == [10.0]
    stores = next(t for t in rate["tables"] if t["name"] == "rate_stores")
    assert {row["group"]: row["sales"] for row in stores["rows"]} == {
        refreshed.s1.name: Decimal("300"),
        refreshed.s2.name: Decimal("80"),
    }
    for table in rate["tables"]:
        assert f'id="table-{table["name"]}"' in html


def test_reward_rate_csv_has_the_right_figures(manager_client, refreshed):
    response = manager_client.get(
        reverse("admin:analytics_export", args=["rate_months"]),
        {"from": f"{refreshed.m3:%Y-%m}", "to": f"{refreshed.m1:%Y-%m}"},
    )
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert [r["Month"] for r in rows] == [
        f"{m:%Y-%m}" for m in (refreshed.m3, refreshed.m2, refreshed.m1)
    ]
    assert [Decimal(r["Sales, less returns"]) for r in rows] == [100, 350, 380]
    assert {Decimal(r["Effective reward rate, %"]) for r in rows} == {10}
