"""POST /api/v1/store-sales: a till's daily total, idempotent per store and day."""

from __future__ import annotations

import datetime as dt
import threading
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from analytics.models import StoreSales
from analytics.services.inputs import store_sales_report
from members.errors import Conflict

pytestmark = pytest.mark.django_db

URL = "/api/v1/store-sales"


def yesterday() -> str:
    return (timezone.localdate() - dt.timedelta(days=1)).isoformat()


def test_first_report_creates_the_day(api_client, store):
    response = api_client.post(
        URL,
        {"date": yesterday(), "total_sales": "18250.40", "receipts": 412},
        format="json",
    )

    assert response.status_code == 201, response.json()
    assert response.json() == {
        "store": "main",
        "date": yesterday(),
        "total_sales": "18250.40",
        "receipts": 412,
        "created_at": response.json()["created_at"],
    }
    row = StoreSales.objects.get()
    assert (row.store, row.total, row.receipts, row.entered_by) == (
        store,
        Decimal("18250.40"),
        412,
        None,
    )


def test_the_same_figures_again_are_a_replay(api_client):
    body = {"date": yesterday(), "total_sales": 18250.4, "receipts": 412}
    first = api_client.post(URL, body, format="json")

    again = api_client.post(URL, {**body, "total_sales": "18250.40"}, format="json")

    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()
    assert StoreSales.objects.count() == 1


@pytest.mark.parametrize(
    ("change", "field"),
    [({"total_sales": "18000.00"}, "total_sales"), ({"receipts": 411}, "receipts")],
)
def test_other_figures_for_a_day_already_sent_are_a_conflict(api_client, change, field):
    body = {"date": yesterday(), "total_sales": "18250.40", "receipts": 412}
    api_client.post(URL, body, format="json")

    response = api_client.post(URL, {**body, **change}, format="json")

    assert response.status_code == 409
    assert list(response.json()["errors"]) == [field]
    assert "were sent before with other figures" in response.json()["detail"]
    row = StoreSales.objects.get()
    assert (row.total, row.receipts) == (Decimal("18250.40"), 412)


def test_each_store_has_its_own_day(api_client, other_api_client, store, other_store):
    body = {"date": yesterday(), "total_sales": "100.00"}
    assert api_client.post(URL, body, format="json").status_code == 201
    other = other_api_client.post(URL, {**body, "total_sales": "250.00"}, format="json")

    assert other.status_code == 201
    assert dict(StoreSales.objects.values_list("store__code", "total")) == {
        "main": Decimal("100.00"),
        "other": Decimal("250.00"),
    }


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"total_sales": "10.00"}, "date"),
        ({"date": "31/12/2025", "total_sales": "10.00"}, "date"),
        ({"date": "2999-01-01", "total_sales": "10.00"}, "date"),
        ({"date": "2025-12-31"}, "total_sales"),
        ({"date": "2025-12-31", "total_sales": "-1.00"}, "total_sales"),
        ({"date": "2025-12-31", "total_sales": "1e3"}, "total_sales"),
        ({"date": "2025-12-31", "total_sales": "10.001"}, "total_sales"),
        ({"date": "2025-12-31", "total_sales": "10.00", "receipts": -1}, "receipts"),
        ({"date": "2025-12-31", "total_sales": "10.00", "receipts": "1.5"}, "receipts"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(api_client, body, field):
    response = api_client.post(URL, body, format="json")

    assert response.status_code == 400, response.json()
    assert field in response.json()["errors"]
    assert not StoreSales.objects.exists()


def test_without_a_till_token_is_a_401(client):
    response = client.post(
        URL,
        {"date": "2025-12-31", "total_sales": "1.00"},
        content_type="application/json",
    )

    assert response.status_code == 401
    assert not StoreSales.objects.exists()


def test_the_operation_is_in_the_schema(client):
    schema = client.get("/api/v1/schema/?format=json").json()

    operation = schema["paths"]["/api/v1/store-sales"]["post"]
    assert operation["operationId"] == "store_sales_report"
    assert {"200", "201", "400", "401", "409"} <= set(operation["responses"])


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_tills_reporting_the_same_day_at_once_write_one_row(store):
    """Two tills of a store send the same day together: one row, one replay;
    with other figures, the second is a conflict, never a second row."""
    day = timezone.localdate() - dt.timedelta(days=1)
    barrier = threading.Barrier(2)
    outcomes = []

    def report(total: str) -> None:
        try:
            barrier.wait()
            outcomes.append(
                store_sales_report(store=store, day=day, total=Decimal(total))[1]
            )
        except Conflict:
            outcomes.append("conflict")
        finally:
            connection.close()

    for totals in (("10.00", "10.00"), ("20.00", "30.00")):
        outcomes.clear()
        day -= dt.timedelta(days=1)
        threads = [threading.Thread(target=report, args=(t,)) for t in totals]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        expected = [False, True] if totals[0] == totals[1] else [False, "conflict"]
        assert sorted(outcomes, key=str) == sorted(expected, key=str)
        assert StoreSales.objects.filter(day=day).count() == 1
